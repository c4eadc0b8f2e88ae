import Experiments
import Foundation
import NeuralODE
import TensorEngine
import Testing

@Suite("CNF experiments at small sizes")
struct CNFTrainingTests {
    /// Returns a flow small enough to train a few iterations in a debug build.
    static func smallModel() -> CNFModelSettings {
        var model = CNFModelSettings()
        model.width = 8
        model.hiddenSize = 8
        model.endTime = 1
        model.relativeTolerance = 1e-4
        model.absoluteTolerance = 1e-4
        model.learningRate = 0.01
        return model
    }

    static func smallFit() -> MaximumLikelihoodConfiguration {
        var configuration = MaximumLikelihoodConfiguration()
        configuration.model = smallModel()
        configuration.iterations = 10
        configuration.batchSize = 64
        configuration.testSize = 200
        configuration.evaluateEvery = 5
        configuration.seed = 3
        return configuration
    }

    @Test("learned density of a short fit integrates to one")
    func densityIntegratesToOne() throws {
        let training = MaximumLikelihoodTraining(configuration: Self.smallFit())
        let before = try training.heldOutLogLikelihood()
        var reports: [CNFTrainingProgress] = []
        try training.train(iterations: 1...10, report: { reports.append($0) })
        let after = try training.heldOutLogLikelihood()
        #expect(reports.map(\.iteration) == [5, 10])
        #expect(reports.allSatisfy { $0.forwardEvaluations > 0 && $0.backwardEvaluations > 0 })
        #expect(after > before + 0.05, "held-out log-likelihood \(before) → \(after)")

        // The base N(0, I) moved for t ∈ [0, 1] keeps nearly all its mass inside [-6, 6]².
        let grid = DensityGrid(extent: 6, resolution: 60)
        let mass = try training.logDensity(of: grid.points()).reduce(0) { $0 + exp($1) } * grid.cellSize * grid.cellSize
        #expect(abs(mass - 1) < 0.01, "mass on the grid: \(mass)")
    }

    @Test("resumed maximum-likelihood run matches an uninterrupted one")
    func resumeMatches() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnf-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("fit.safetensors").path

        let straight = MaximumLikelihoodTraining(configuration: Self.smallFit())
        try straight.train(iterations: 1...4, report: { _ in })

        let first = MaximumLikelihoodTraining(configuration: Self.smallFit())
        try first.train(iterations: 1...2, report: { _ in }, checkpoint: { iteration in
            if iteration == 2 { try first.save(to: path, iteration: iteration) }
        })
        let resumed = MaximumLikelihoodTraining(configuration: Self.smallFit())
        let saved = try resumed.load(from: path)
        #expect(saved == 2)
        try resumed.train(iterations: (saved + 1)...4, report: { _ in })

        for (a, b) in zip(straight.flow.field.parameters, resumed.flow.field.parameters) {
            #expect(a.scalars == b.scalars)
        }
    }

    @Test("checkpoint of another dataset is rejected")
    func checkpointOfOtherRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnf-other-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("fit.safetensors").path
        try MaximumLikelihoodTraining(configuration: Self.smallFit()).save(to: path, iteration: 3)
        var other = Self.smallFit()
        other.dataset = .twoMoons
        #expect(throws: CNFCheckpointError.self) {
            try MaximumLikelihoodTraining(configuration: other).load(from: path)
        }
    }

    @Test("checkpoint with other settings is rejected")
    func checkpointWithOtherSettings() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnf-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("fit.safetensors").path
        try MaximumLikelihoodTraining(configuration: Self.smallFit()).save(to: path, iteration: 3)
        #expect(try MaximumLikelihoodTraining(configuration: Self.smallFit()).load(from: path) == 3)

        var other = Self.smallFit()
        other.model.learningRate = 0.5
        #expect {
            try MaximumLikelihoodTraining(configuration: other).load(from: path)
        } throws: { error in
            guard case .otherSettings(_, let expected, let found) = error as? CNFCheckpointError else { return false }
            return expected.contains("lr=0.5") && found.contains("lr=0.01")
        }
    }

    @Test("non-finite loss stops training")
    func nonFiniteLoss() throws {
        var configuration = Self.smallFit()
        // A standard deviation beyond Float's range makes the base log-density infinite.
        configuration.model.baseStandardDeviation = 1e300
        let training = MaximumLikelihoodTraining(configuration: configuration)
        var reports = 0
        #expect {
            try training.train(iterations: 1...3, report: { _ in reports += 1 })
        } throws: { error in
            guard case .nonFiniteLoss(_, let iteration, let loss) = error as? CNFTrainingError else { return false }
            return iteration == 1 && !loss.isFinite
        }
        #expect(reports == 0)
    }

    @Test("density matching lowers the loss of both flows")
    func densityMatchingLearns() throws {
        var configuration = DensityMatchingConfiguration()
        configuration.target = .u1
        configuration.model = Self.smallModel()
        configuration.model.learningRate = 0.05
        configuration.batchSize = 64
        configuration.planarLayers = 4
        configuration.planarLearningRate = 0.01
        configuration.evaluationSize = 256
        configuration.evaluateEvery = 1000
        let matching = DensityMatching(configuration: configuration)
        let flowBefore = try matching.evaluateContinuousFlow()
        let planarBefore = matching.evaluatePlanarFlow()
        try matching.trainContinuousFlow(iterations: 1...8, report: { _ in })
        try matching.trainPlanarFlow(iterations: 1...200, report: { _ in })
        let flowAfter = try matching.evaluateContinuousFlow()
        let planarAfter = matching.evaluatePlanarFlow()
        #expect(flowAfter < flowBefore - 0.1, "CNF loss \(flowBefore) → \(flowAfter)")
        #expect(planarAfter < planarBefore - 0.1, "planar loss \(planarBefore) → \(planarAfter)")
    }
}
