import Experiments
import Foundation
import NeuralODE
import Testing

@Suite("Spiral demo")
struct SpiralDemoTests {
    /// A small configuration: 150 observation times, loose tolerances, few iterations.
    func smallConfiguration(_ gradient: GradientMethod) -> SpiralDemoConfiguration {
        var configuration = SpiralDemoConfiguration()
        configuration.dataSize = 150
        configuration.endTime = 6
        configuration.iterations = 60
        configuration.learningRate = 1e-2
        configuration.relativeTolerance = 1e-5
        configuration.absoluteTolerance = 1e-6
        configuration.evaluateEvery = 30
        configuration.gradient = gradient
        return configuration
    }

    @Test("training lowers the trajectory error", arguments: [GradientMethod.adjoint, .backpropagation])
    func trainingLowersLoss(_ gradient: GradientMethod) throws {
        let demo = try SpiralDemo(configuration: smallConfiguration(gradient))
        let before = try demo.evaluate()
        var reports: [SpiralDemoProgress] = []
        try demo.train { reports.append($0) }
        let after = try demo.evaluate()
        #expect(reports.count == 2)
        #expect(reports.allSatisfy { $0.forwardEvaluations > 0 })
        #expect(after < 0.7 * before, "error before \(before), after \(after)")
    }

    @Test("the true trajectory starts at (2, 0) and decays")
    func trueTrajectory() throws {
        let demo = try SpiralDemo(configuration: smallConfiguration(.adjoint))
        let values = demo.trueTrajectory.doubles
        #expect(values[0] == 2)
        #expect(values[1] == 0)
        let lastRadius = (values[values.count - 2] * values[values.count - 2] + values[values.count - 1] * values[values.count - 1]).squareRoot()
        #expect(lastRadius < 2)
    }

    @Test("pictures and loss file are written")
    func picturesWritten() throws {
        var configuration = smallConfiguration(.adjoint)
        configuration.iterations = 2
        let demo = try SpiralDemo(configuration: configuration)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spiral-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try SpiralDemoPictures.write(demo, to: folder)
        #expect(written.count == 3)
        for url in written {
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains("<svg"))
        }
    }
}
