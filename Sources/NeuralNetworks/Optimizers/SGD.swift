import TensorEngine

/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay,
/// with the update rule of PyTorch's `torch.optim.SGD` (documentation of PyTorch 1.13):
///
/// ```
/// g ← ∇f(θ) + λ θ                      (weight decay λ)
/// b ← g at the first step, else μ b + (1 − τ) g   (momentum μ, dampening τ; if μ ≠ 0)
/// g ← g + μ b if Nesterov, else b      (if μ ≠ 0)
/// θ ← θ − γ g
/// ```
///
/// The momentum buffer is saved in checkpoints as `momentum_buffer`.
public final class SGD<Scalar: TensorScalar>: Optimizer<Scalar> {
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool

    /// - Precondition: `learningRate`, `momentum`, `dampening` and `weightDecay` are
    ///   non-negative; Nesterov momentum needs `momentum > 0` and `dampening == 0`, as in
    ///   PyTorch.
    public init(
        parameters: [(name: String, tensor: Tensor<Scalar>)], learningRate: Double,
        momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false
    ) {
        precondition(momentum >= 0, "SGD: momentum must be non-negative, got \(momentum)")
        precondition(dampening >= 0, "SGD: dampening must be non-negative, got \(dampening)")
        precondition(weightDecay >= 0, "SGD: weightDecay must be non-negative, got \(weightDecay)")
        precondition(
            !nesterov || (momentum > 0 && dampening == 0),
            "SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum \(momentum) and dampening \(dampening)")
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override var algorithmName: String { "SGD" }

    override var stateBufferNames: [String] { momentum != 0 ? ["momentum_buffer"] : [] }

    override var hyperparameters: [(name: String, value: String)] {
        [
            ("momentum", "\(momentum)"), ("dampening", "\(dampening)"),
            ("weight_decay", "\(weightDecay)"), ("nesterov", "\(nesterov)"),
        ]
    }

    override func update(
        _ parameter: Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout ParameterState<Scalar>
    ) {
        let buffers = momentum != 0 ? [buffer("momentum_buffer", in: &state, shape: parameter.shape)] : []
        let isFirstStep = state.step == 1
        withUpdatePointers(parameter, gradient, buffers) { values, gradients, buffers, count in
            SGDKernel.run(
                values: values, gradients: gradients, momentumBuffer: buffers.first, count: count,
                learningRate: Scalar(learningRate), momentum: Scalar(momentum),
                undamped: Scalar(1 - dampening), weightDecay: Scalar(weightDecay),
                nesterov: nesterov, isFirstStep: isFirstStep)
        }
    }
}

enum SGDKernel {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: TensorScalar>(
        values: UnsafeMutablePointer<S>, gradients: UnsafePointer<S>,
        momentumBuffer: UnsafeMutablePointer<S>?, count: Int, learningRate: S, momentum: S,
        undamped: S, weightDecay: S, nesterov: Bool, isFirstStep: Bool
    ) {
        // Values are read into locals and written once, so that the loop vectorises.
        for i in 0..<count {
            let theta = values[i]
            var g = weightDecay != 0 ? gradients[i] + weightDecay * theta : gradients[i]
            if let buffer = momentumBuffer {
                let updated = isFirstStep ? g : momentum * buffer[i] + undamped * g
                buffer[i] = updated
                g = nesterov ? g + momentum * updated : updated
            }
            values[i] = theta - learningRate * g
        }
    }
}
