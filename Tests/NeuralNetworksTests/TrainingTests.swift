import Foundation
import NeuralNetworks
import TensorEngine
import Testing

/// Points of two interleaved spirals, one class each, in the plane.
///
/// Class `c` at parameter `t ∈ [0, 1)` lies at radius `0.2 + t` and angle
/// `2π · turns · t + π c`, plus Gaussian noise of standard deviation `noise`.
func twoSpirals(
    count: Int, turns: Double, noise: Double, generator: inout RandomGenerator
) -> (points: Tensor<Float>, labels: [Int]) {
    var coordinates: [Float] = []
    var labels: [Int] = []
    for index in 0..<count {
        let label = index % 2
        let t = generator.nextUniform()
        let radius = 0.2 + t
        let angle = 2 * Double.pi * turns * t + Double.pi * Double(label)
        coordinates.append(Float(radius * cos(angle) + noise * generator.nextNormal()))
        coordinates.append(Float(radius * sin(angle) + noise * generator.nextNormal()))
        labels.append(label)
    }
    return (Tensor(shape: [count, 2], scalars: coordinates), labels)
}

/// Returns the fraction of rows of `logits` whose largest entry is at the label.
func accuracy(logits: Tensor<Float>, labels: [Int]) -> Double {
    let classes = logits.shape[1]
    let values = logits.scalars
    var correct = 0
    for (row, label) in labels.enumerated() {
        let scores = values[(row * classes)..<((row + 1) * classes)]
        if scores.firstIndex(of: scores.max()!)! - row * classes == label { correct += 1 }
    }
    return Double(correct) / Double(labels.count)
}

@Suite("Training")
struct TrainingTests {
    @Test("a two-layer MLP learns two interleaved spirals", .timeLimit(.minutes(1)))
    func spirals() {
        var generator = RandomGenerator(seed: 2024)
        let training = twoSpirals(count: 128, turns: 1, noise: 0.02, generator: &generator)
        let heldOut = twoSpirals(count: 512, turns: 1, noise: 0.02, generator: &generator)

        let model = Sequential<Float>(
            Linear(inputSize: 2, outputSize: 32, generator: &generator), Tanh(),
            Linear(inputSize: 32, outputSize: 2, generator: &generator))
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.05)
        let schedule = PiecewiseConstantSchedule(initial: 0.05, boundaries: [150], factor: 0.25)

        let initialLoss = withoutGradients { crossEntropy(logits: model(training.points), labels: training.labels) }
        var loss = initialLoss
        // Full-batch steps; about 1.5 s in a debug build on the 2-core development machine.
        for step in 0..<200 {
            optimizer.learningRate = schedule.learningRate(atEpoch: Double(step))
            loss = crossEntropy(logits: model(training.points), labels: training.labels)
            optimizer.step(gradients: gradients(of: loss, withRespectTo: optimizer.parameters))
        }
        let heldOutAccuracy = withoutGradients { accuracy(logits: model(heldOut.points), labels: heldOut.labels) }
        #expect(loss.scalar < initialLoss.scalar / 5, "loss \(initialLoss.scalar) → \(loss.scalar)")
        #expect(heldOutAccuracy >= 0.95, "held-out accuracy \(heldOutAccuracy)")
    }
}
