import Datasets
import Experiments
import Foundation
import NeuralNetworks
import NeuralODE
import TensorEngine
import Testing

@Suite("Latent experiment training")
struct LatentTrainingTests {
    /// Returns a small spiral experiment that trains in seconds in a debug build.
    static func configuration(_ model: LatentModelKind, iterations: Int) -> LatentExperimentConfiguration {
        var configuration = LatentExperimentConfiguration()
        configuration.model = model
        configuration.observationCount = 20
        configuration.iterations = iterations
        configuration.spirals.spiralCount = 24
        configuration.testSpiralCount = 8
        configuration.gradient = .backpropagation
        configuration.learningRate = 0.02
        configuration.seed = 1
        configuration.reportEvery = 1
        return configuration
    }

    /// RMSE of predicting each series' own mean value at its observed points.
    static func seriesMeanRMSE(_ dataset: IrregularTimeSeriesDataset) -> Double {
        var total = 0.0
        var count = 0
        for series in dataset.series {
            for c in 0..<series.channelCount {
                let values = stride(from: c, to: series.values.count, by: series.channelCount).map { Double(series.values[$0]) }
                let mean = values.reduce(0, +) / Double(values.count)
                total += values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                count += values.count
            }
        }
        return (total / Double(count)).squareRoot()
    }

    @Test("a short latent ODE run lowers the loss and beats each series' mean")
    func latentTraining() throws {
        let experiment = try LatentODEExperiment(configuration: Self.configuration(.latentODE, iterations: 150))
        var losses: [Double] = []
        try experiment.train { losses.append($0.loss) }
        let first = try #require(losses.first)
        let last = try #require(losses.last)
        #expect(last < 0.5 * first)
        let evaluation = try experiment.evaluate()
        let reconstruction = try #require(evaluation.reconstructionRMSE)
        #expect(reconstruction < Self.seriesMeanRMSE(try #require(experiment.testDataset)))
        #expect(evaluation.extrapolationRMSE?.isFinite == true)
        #expect(evaluation.seriesCount == 8)
    }

    @Test("short baseline runs lower the loss", arguments: [LatentModelKind.rnn, .rnnGap])
    func baselineTraining(model: LatentModelKind) throws {
        let experiment = try LatentODEExperiment(configuration: Self.configuration(model, iterations: 60))
        var losses: [Double] = []
        try experiment.train { losses.append($0.loss) }
        #expect(try #require(losses.last) < 0.5 * (try #require(losses.first)))
        let evaluation = try experiment.evaluate()
        #expect(try #require(evaluation.reconstructionRMSE) < Self.seriesMeanRMSE(try #require(experiment.testDataset)))
        #expect(evaluation.extrapolationRMSE?.isFinite == true)
    }

    @Test("a resumed run continues exactly where it stopped")
    func resume() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path

        let uninterrupted = try LatentODEExperiment(configuration: Self.configuration(.latentODE, iterations: 3))
        try uninterrupted.train { _ in }

        let first = try LatentODEExperiment(configuration: Self.configuration(.latentODE, iterations: 2))
        try first.train(checkpoint: checkpoint) { _ in }
        let resumed = try LatentODEExperiment(configuration: Self.configuration(.latentODE, iterations: 3))
        try resumed.resume(from: checkpoint)
        #expect(resumed.iteration == 2)
        try resumed.train { _ in }
        #expect(resumed.iteration == 3)
        let expected = try #require(uninterrupted.latentModel).parameters.map(\.scalars)
        let actual = try #require(resumed.latentModel).parameters.map(\.scalars)
        #expect(actual == expected)
    }

    @Test("a checkpoint of another experiment is rejected")
    func resumeMismatch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-mismatch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path
        let experiment = try LatentODEExperiment(configuration: Self.configuration(.latentODE, iterations: 1))
        try experiment.train(checkpoint: checkpoint) { _ in }

        var other = Self.configuration(.latentODE, iterations: 1)
        other.observationCount = 30
        let mismatched = try LatentODEExperiment(configuration: other)
        #expect {
            try mismatched.resume(from: checkpoint)
        } throws: { error in
            guard case .checkpointMismatch(let path, _, _) = error as? LatentExperimentError else { return false }
            return path == checkpoint
        }
        #expect(mismatched.iteration == 0)
    }

    @Test("a checkpoint past the requested iterations is rejected")
    func resumePastEnd() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-past-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path
        try LatentODEExperiment(configuration: Self.configuration(.rnn, iterations: 3)).train(checkpoint: checkpoint) { _ in }

        let shorter = try LatentODEExperiment(configuration: Self.configuration(.rnn, iterations: 2))
        #expect {
            try shorter.resume(from: checkpoint)
        } throws: { error in
            guard case .invalidCheckpoint(_, let reason) = error as? LatentExperimentError else { return false }
            return reason.contains("completed 3 iterations") && reason.contains("the 2 requested")
        }
        #expect(shorter.iteration == 0)
    }

    @Test("a non-finite loss stops training and keeps the checkpoint")
    func nonFiniteLoss() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-nan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path
        var configuration = Self.configuration(.rnn, iterations: 5)
        // A learning rate this large overflows the weights on the first update.
        configuration.learningRate = 1e30
        let experiment = try LatentODEExperiment(configuration: configuration)
        var reported: [Double] = []
        #expect {
            try experiment.train(checkpoint: checkpoint, checkpointEvery: 1) { reported.append($0.loss) }
        } throws: { error in
            guard case .nonFiniteLoss(let iteration, let loss, let learningRate, _) = error as? LatentExperimentError
            else { return false }
            return iteration >= 2 && !loss.isFinite && learningRate == 1e30
        }
        #expect(!reported.isEmpty)
        #expect(reported.allSatisfy { $0.isFinite })
        let saved = try SafetensorsFile.read(from: checkpoint)
        #expect(saved.metadata["iteration"] == "\(reported.count)")
    }

    @Test("CSV data replaced at the same path changes the checksum")
    func csvChecksum() throws {
        let original = try TimeSeriesCSV.parse("series,time,a\ns,0,1\ns,1,2\n")
        let replaced = try TimeSeriesCSV.parse("series,time,a\ns,0,1\ns,1,2.5\n")
        let reread = try TimeSeriesCSV.parse("series,time,a\ns,0,1\ns,1,2\n")
        #expect(original.contentChecksum == reread.contentChecksum)
        #expect(original.contentChecksum != replaced.contentChecksum)
        let configuration = Self.configuration(.rnn, iterations: 1)
        let first = try LatentODEExperiment(configuration: configuration, data: .series(original, source: "data.csv"))
        let second = try LatentODEExperiment(configuration: configuration, data: .series(replaced, source: "data.csv"))
        #expect(first.dataSource != second.dataSource)
    }

    @Test("CSV series with missing values train and reconstruct")
    func csvSeries() throws {
        var rows = ["series,time,a,b"]
        for series in 0..<6 {
            for step in 0..<8 {
                let t = 10 + Double(step) * 0.3 + Double(series) * 0.05
                let a = step % 3 == 0 ? "" : "\(sin(t + Double(series)))"
                rows.append("s\(series),\(t),\(a),\(cos(t))")
            }
        }
        let dataset = try TimeSeriesCSV.parse(rows.joined(separator: "\n"))
        var configuration = Self.configuration(.latentODE, iterations: 2)
        configuration.observationCount = 8
        let experiment = try LatentODEExperiment(configuration: configuration, data: .series(dataset, source: "test.csv"))
        #expect(experiment.dataset.series[0].times.first == 0)
        #expect(experiment.latentModel?.architecture.encoderReadsMask == true)
        try experiment.train { _ in }
        let evaluation = try experiment.evaluate()
        #expect(evaluation.reconstructionRMSE?.isFinite == true)
        #expect(evaluation.extrapolationRMSE == nil)
    }

    @Test("the Poisson example lowers its loss")
    func poissonTraining() throws {
        var configuration = PoissonExampleConfiguration()
        configuration.seriesCount = 16
        configuration.gridCount = 21
        configuration.gradient = .backpropagation
        let example = PoissonExample(configuration: configuration)
        #expect(example.data.counts.shape == [21, 16, 1])
        // Thinning keeps about r·T = 30 events per series.
        let events = example.data.counts.scalars.reduce(0, +) / 16
        #expect(events > 20 && events < 40)
        var losses: [Double] = []
        for _ in 0..<15 { losses.append(try example.trainingStep().loss) }
        #expect(losses.last! < losses.first!)
        #expect(try example.rateError().isFinite)
    }

    @Test("Table 2 files show the measured and published RMSE")
    func tableFiles() {
        let evaluation = LatentEvaluation(
            extrapolationRMSE: 0.2, extrapolationRMSEAgainstObservations: 0.25, reconstructionRMSE: 0.1,
            lastObservationRMSE: 1.5, seriesCount: 10)
        let rows = [
            LatentTable2.Row(model: .latentODE, observationCount: 30, evaluation: evaluation, iterations: 5, trainingSeconds: 1),
            LatentTable2.Row(model: .rnnGap, observationCount: 30, evaluation: evaluation, iterations: 5, trainingSeconds: 1),
        ]
        let markdown = LatentTable2.markdown(rows)
        #expect(markdown.contains("| Latent ODE | 0.2000 (0.1642) |"))
        #expect(markdown.contains("| RNN + time gap | 0.2000 |"))
        #expect(markdown.contains("| last observation repeated | 1.5000 |"))
        let csv = LatentTable2.csv(rows).split(separator: "\n")
        #expect(csv.count == 3)
        #expect(csv[1] == "latentode,30,0.2000,0.1642,0.2500,0.1000,1.5000,5,1.0")
        #expect(csv[2] == "rnn-gap,30,0.2000,,0.2500,0.1000,1.5000,5,1.0")

        // The published figures are of the spirals, so rows of other data leave them out.
        let csvData = LatentTable2.Row(
            model: .latentODE, observationCount: 30, evaluation: evaluation, iterations: 5, trainingSeconds: 1,
            isSpiralData: false)
        #expect(csvData.publishedRMSE == nil)
        #expect(LatentTable2.csv([csvData]).split(separator: "\n")[1] == "latentode,30,0.2000,,0.2500,0.1000,1.5000,5,1.0")
    }
}
