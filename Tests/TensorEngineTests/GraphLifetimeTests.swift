import TensorEngine
import Testing

/// Operations whose pullbacks use their own result, and so could keep it alive in a reference
/// cycle: result → recorded node → pullback → result.
private let resultCapturingOperations: [(name: String, apply: @Sendable (Tensor<Double>) -> Tensor<Double>)] = [
    ("exp", { $0.exp() }),
    ("tanh", { $0.tanh() }),
    ("sigmoid", { $0.sigmoid() }),
    ("sqrt", { $0.sqrt() }),
    ("reciprocal", { $0.reciprocal() }),
    ("pow", { Tensor.pow($0, $0) }),
]

@Suite("Recorded graph lifetime")
struct GraphLifetimeTests {
    @Test("recorded result is freed", arguments: resultCapturingOperations.map(\.name))
    func recordedResultIsFreed(_ name: String) throws {
        let operation = try #require(resultCapturingOperations.first { $0.name == name })
        let x = Tensor<Double>([0.5, 1.5]).requiringGradient()
        weak var weakResult: Tensor<Double>?
        weak var weakLoss: Tensor<Double>?
        do {
            let result = operation.apply(x)
            let loss = result.sum()
            weakResult = result
            weakLoss = loss
            // The graph still works while it is referenced.
            let gradient = gradients(of: loss, withRespectTo: [x])[0]
            #expect(gradient.scalars.allSatisfy { $0.isFinite })
        }
        #expect(weakLoss == nil, "the loss after \(name) is still alive")
        #expect(weakResult == nil, "the result of \(name) is still alive: its pullback keeps it")
    }
}
