import Experiments
import Foundation
import Testing

@Suite("MNIST errors")
struct MNISTErrorTests {
    /// Runs `body` and returns the description of the `MNISTExperimentError` it throws.
    func errorDescription(_ body: () throws -> Void) throws -> String {
        do {
            try body()
        } catch let error as MNISTExperimentError {
            return error.description
        }
        Issue.record("no error was thrown")
        return ""
    }

    @Test("missing data folder names the path")
    func missingData() throws {
        var configuration = MNISTConfiguration()
        configuration.dataPath = "/nonexistent/mnist-folder"
        configuration.checkpointDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mnist-\(UUID().uuidString)").path
        let message = try errorDescription { _ = try MNISTExperiment(configuration: configuration) }
        #expect(message.contains("'/nonexistent/mnist-folder' (--data)"))
        #expect(message.contains("does not exist"))
    }

    @Test("invalid settings name the value", arguments: [
        ("epochs", "epochs is 0"), ("tolerance", "solver tolerance is 2.0"), ("decay", "decay epochs [100, 60]"),
        ("channels", "channels is 48"), ("momentum", "momentum is 1.5"),
        ("growingDecay", "decay factor is 5.0 (--decay-factor); it must be in (0, 1]"),
        ("scaledRate", "the learning rate for batch 256 is 1e+308 × 256 / 128 = inf"),
        ("underflow", "the learning rate after the 3 decays at epochs [60, 100, 140] underflows to 0"),
    ])
    func invalidSettings(setting: String, expected: String) throws {
        var configuration = MNISTConfiguration()
        configuration.dataPath = "/unused"
        switch setting {
        case "epochs": configuration.epochs = 0
        case "tolerance": configuration.solver.tolerance = 2
        case "decay": configuration.decayEpochs = [100, 60]
        case "channels": configuration.channels = 48
        case "growingDecay": configuration.decayFactor = 5
        case "scaledRate":
            configuration.baseLearningRate = 1e308
            configuration.batchSize = 256
        case "underflow": configuration.decayFactor = 1e-200
        default: configuration.momentum = 1.5
        }
        let message = try errorDescription { try configuration.validate() }
        #expect(message.contains(expected), "message: \(message)")
    }

    @Test("empty test set is rejected")
    func emptyTestSet() throws {
        let data = try SyntheticMNIST(testCount: 0)
        defer { data.remove() }
        let configuration = smallMNISTConfiguration(.resnet, data: data, folder: "run")
        let message = try errorDescription { _ = try MNISTExperiment(configuration: configuration) }
        #expect(message.contains("in '\(data.path)' (--data) contain no images"), "message: \(message)")
    }

    @Test("fewer training images than one batch")
    func tooFewImages() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        var configuration = smallMNISTConfiguration(.resnet, data: data, folder: "run")
        configuration.trainLimit = 10
        let message = try errorDescription { _ = try MNISTExperiment(configuration: configuration) }
        #expect(message.contains("only 10 training images for batches of 16"))
    }

    @Test("checkpoint rules: exists, missing, other model, nothing left")
    func checkpointRules() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        let configuration = smallMNISTConfiguration(.resnet, data: data, folder: "run", epochs: 1)
        try MNISTExperiment(configuration: configuration).train()

        let again = try errorDescription { _ = try MNISTExperiment(configuration: configuration) }
        #expect(again.contains("already contains a checkpoint after epoch 1"))
        #expect(again.contains("--resume"))

        var missing = configuration
        missing.checkpointDirectory = data.runFolder("empty")
        missing.resume = true
        let missingMessage = try errorDescription { _ = try MNISTExperiment(configuration: missing) }
        #expect(missingMessage.contains("there is no checkpoint at"))

        var otherModel = configuration
        otherModel.model = .odenet
        otherModel.epochs = 2
        otherModel.resume = true
        let otherMessage = try errorDescription { _ = try MNISTExperiment(configuration: otherModel) }
        #expect(otherMessage.contains("model = resnet, but this run asks for odenet"))
        #expect(otherMessage.contains("pass --model resnet to match it"))

        var otherSeed = configuration
        otherSeed.seed = 99
        otherSeed.epochs = 2
        otherSeed.resume = true
        let seedMessage = try errorDescription { _ = try MNISTExperiment(configuration: otherSeed) }
        #expect(seedMessage.contains("seed = 3, but this run asks for 99"))

        var finished = configuration
        finished.resume = true
        let finishedMessage = try errorDescription { _ = try MNISTExperiment(configuration: finished) }
        #expect(finishedMessage.contains("already completed epoch 1, and --epochs is 1"))

        let figureMessage = try errorDescription {
            _ = try MNISTExperiment.loadModel(fromCheckpointDirectory: data.runFolder("empty"))
        }
        #expect(figureMessage.contains("does not exist"))
    }

    @Test("a diverging run stops with the epoch and batch")
    func nonFiniteLoss() throws {
        let data = try SyntheticMNIST()
        defer { data.remove() }
        var configuration = smallMNISTConfiguration(.resnet, data: data, folder: "run", epochs: 1)
        configuration.baseLearningRate = 1e30
        let experiment = try MNISTExperiment(configuration: configuration)
        do {
            try experiment.train()
            Issue.record("training with learning rate 1e30 finished without an error")
        } catch MNISTExperimentError.nonFiniteLoss(let epoch, let batch, let value) {
            #expect(epoch == 1)
            #expect(batch >= 2, "the first loss comes from the initial weights")
            #expect(!value.isFinite)
        }
        #expect(experiment.completedEpochs == 0)
    }
}
