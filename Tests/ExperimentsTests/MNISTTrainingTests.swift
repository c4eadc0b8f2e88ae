import Experiments
import Foundation
import NeuralNetworks
import TensorEngine
import Testing

@Suite("MNIST training")
struct MNISTTrainingTests {
    @Test("a short run lowers the test loss", arguments: [MNISTModelKind.odenet, .resnet])
    func trainingLowersLoss(kind: MNISTModelKind) throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        var configuration = smallMNISTConfiguration(kind, data: data, folder: "run", epochs: 3)
        configuration.decayEpochs = [100]
        let experiment = try MNISTExperiment(configuration: configuration)
        let before = try experiment.evaluate(experiment.testSet)

        var events: [MNISTTrainingEvent] = []
        try experiment.train { events.append($0) }
        let after = try experiment.evaluate(experiment.testSet)

        #expect(after.loss < 0.8 * before.loss, "test loss before \(before.loss), after \(after.loss)")
        #expect(experiment.completedEpochs == 3)
        #expect(experiment.batchLog.count == 3 * 4, "64 images in batches of 16")
        #expect(experiment.epochLog.map(\.epoch) == [1, 2, 3])
        let finished = events.filter { if case .epochFinished = $0 { true } else { false } }
        #expect(finished.count == 3)
        if kind == .odenet {
            #expect(experiment.batchLog.allSatisfy { $0.forwardEvaluations > 0 })
            #expect(experiment.batchLog.allSatisfy { $0.backwardEvaluations > 0 })
        } else {
            #expect(experiment.batchLog.allSatisfy { $0.forwardEvaluations == 0 })
            #expect(experiment.batchLog.allSatisfy { $0.backwardEvaluations == 0 })
        }
    }

    @Test("the learning rate follows the decay epochs")
    func learningRateSchedule() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        var configuration = smallMNISTConfiguration(.resnet, data: data, folder: "run", epochs: 2)
        configuration.baseLearningRate = 0.2
        configuration.decayEpochs = [1]
        configuration.decayFactor = 0.5
        let experiment = try MNISTExperiment(configuration: configuration)
        try experiment.train()
        // 0.2 · 16 / 128 = 0.025 in the first epoch, halved from the second.
        #expect(experiment.epochLog.map(\.learningRate) == [0.025, 0.0125])
    }

    @Test("a resumed run takes the same steps as an uninterrupted one")
    func resumeMatchesUninterruptedRun() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        var whole = smallMNISTConfiguration(.odenet, data: data, folder: "whole", epochs: 2)
        whole.augmentation = true
        let uninterrupted = try MNISTExperiment(configuration: whole)
        try uninterrupted.train()

        var first = whole
        first.checkpointDirectory = data.runFolder("parts")
        first.epochs = 1
        try MNISTExperiment(configuration: first).train()
        var second = first
        second.epochs = 2
        second.resume = true
        let resumed = try MNISTExperiment(configuration: second)
        #expect(resumed.completedEpochs == 1)
        #expect(resumed.optimizer.stepCount == 4)
        try resumed.train()

        #expect(resumed.completedEpochs == 2)
        #expect(resumed.optimizer.stepCount == uninterrupted.optimizer.stepCount)
        #expect(resumed.batchLog.map(\.loss) == uninterrupted.batchLog.map(\.loss))
        #expect(resumed.epochLog.map(\.testError) == uninterrupted.epochLog.map(\.testError))
        for ((name, expected), (_, actual)) in zip(uninterrupted.model.namedParameters, resumed.model.namedParameters) {
            #expect(actual.scalars == expected.scalars, "parameter \(name) differs")
            let expectedMomentum = uninterrupted.optimizer.state(ofParameter: name)?.buffers["momentum_buffer"]
            let actualMomentum = resumed.optimizer.state(ofParameter: name)?.buffers["momentum_buffer"]
            #expect(actualMomentum?.scalars == expectedMomentum?.scalars, "momentum of \(name) differs")
        }
    }

    @Test("results and logs are written beside the published table")
    func resultFiles() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        let configuration = smallMNISTConfiguration(.resnet, data: data, folder: "run", epochs: 1)
        let experiment = try MNISTExperiment(configuration: configuration)
        try experiment.train()
        let result = try experiment.result()
        #expect(result.parameterCount == experiment.model.parameterCount)
        #expect(result.peakMemoryBytes > 1_000_000, "VmHWM of a running Swift process exceeds 1 MB")
        #expect(result.secondsPerEpoch > 0)
        let files = try MNISTResultsTable.write([result], to: configuration.checkpointDirectory)
        let markdown = try String(contentsOfFile: files[1], encoding: .utf8)
        #expect(markdown.contains("| Chen et al. (2018), Table 1 | ODE-Net | 160 | 0.42% | 0.22M | O(1) |"))
        #expect(markdown.contains("| this run | ResNet | 1 |"))
        let csv = try String(contentsOfFile: files[0], encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 5, "header, three published rows and this run")
        for name in ["checkpoint.safetensors", "batches.csv", "epochs.csv"] {
            #expect(FileManager.default.fileExists(atPath: data.runFolder("run/\(name)")), "\(name) missing")
        }
    }

    @Test("Figure 3 sweep and pictures from a trained ODE-Net")
    func figure3() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        let configuration = smallMNISTConfiguration(.odenet, data: data, folder: "run", epochs: 1)
        try MNISTExperiment(configuration: configuration).train()

        let (model, epochs) = try MNISTExperiment.loadModel(fromCheckpointDirectory: configuration.checkpointDirectory)
        #expect(epochs == 1)
        #expect(model.kind == .odenet)
        let batch = try MNISTFigure3.testBatch(dataPath: data.path, count: 8)
        let sweep = try MNISTFigure3.toleranceSweep(
            model: model, images: batch.images, labels: batch.labels, tolerances: [1e-1, 1e-5], repeats: 1)
        #expect(sweep.map(\.tolerance) == [1e-1, 1e-5])
        #expect(sweep[0].forwardEvaluations < sweep[1].forwardEvaluations)
        #expect(sweep[0].numericalError > sweep[1].numericalError)
        #expect(model.odeBlock?.solver.tolerance == 1e-3, "the sweep restores the model's solver")

        let log = try MNISTFigure3.readBatchLog(checkpointDirectory: configuration.checkpointDirectory)
        #expect(log.count == 4)
        let output = data.runFolder("figure3")
        let files = try MNISTFigure3.write(sweep: sweep, batchLog: log, batchSize: 8, to: output)
        let names = Set(files.map { URL(fileURLWithPath: $0).lastPathComponent })
        for name in [
            "tolerance_sweep.csv", "training_nfe.csv", "figure3a_nfe_vs_tolerance.svg", "figure3a_error_vs_nfe.svg",
            "figure3b_time_vs_nfe.svg", "figure3c_backward_vs_forward.svg", "figure3d_nfe_over_training.svg",
            "figure3.svg",
        ] {
            #expect(names.contains(name), "\(name) not written")
        }
        let panel = try String(contentsOfFile: output + "/figure3c_backward_vs_forward.svg", encoding: .utf8)
        #expect(panel.contains("(c) Backward against forward NFE"))
        #expect(panel.contains("backward NFE"))
        #expect(panel.contains("backward = forward / 2"))
    }
}
