import TensorEngine

/// RMSprop (Hinton, Coursera lecture 6e, 2012; the centered form from Graves, "Generating
/// Sequences With Recurrent Neural Networks", 2013), with the update rule of PyTorch's
/// `torch.optim.RMSprop` (documentation of PyTorch 1.13):
///
/// ```
/// g ← ∇f(θ) + λ θ                      (weight decay λ)
/// v ← α v + (1 − α) g²,   ṽ ← v
/// if centered:  a ← α a + (1 − α) g,   ṽ ← ṽ − a²
/// if μ > 0:     b ← μ b + g / (√ṽ + ε),   θ ← θ − γ b
/// else:         θ ← θ − γ g / (√ṽ + ε)
/// ```
///
/// `v`, `a` and `b` start at zero. They are saved in checkpoints as `square_avg`, `grad_avg`
/// and `momentum_buffer`.
public final class RMSprop<Scalar: TensorScalar>: Optimizer<Scalar> {
    public let alpha: Double
    public let epsilon: Double
    public let momentum: Double
    public let weightDecay: Double
    public let centered: Bool

    /// The defaults are PyTorch's: learning rate 0.01, α = 0.99, ε = 1e-8.
    ///
    /// - Precondition: `alpha` is in [0, 1]; the other values are non-negative.
    public init(
        parameters: [(name: String, tensor: Tensor<Scalar>)], learningRate: Double = 1e-2,
        alpha: Double = 0.99, epsilon: Double = 1e-8, momentum: Double = 0, weightDecay: Double = 0,
        centered: Bool = false
    ) {
        precondition(alpha >= 0 && alpha <= 1, "RMSprop: alpha must be in [0, 1], got \(alpha)")
        precondition(epsilon >= 0, "RMSprop: epsilon must be non-negative, got \(epsilon)")
        precondition(momentum >= 0, "RMSprop: momentum must be non-negative, got \(momentum)")
        precondition(weightDecay >= 0, "RMSprop: weightDecay must be non-negative, got \(weightDecay)")
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.centered = centered
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override var algorithmName: String { "RMSprop" }

    override var stateBufferNames: [String] {
        ["square_avg"] + (centered ? ["grad_avg"] : []) + (momentum > 0 ? ["momentum_buffer"] : [])
    }

    override var hyperparameters: [(name: String, value: String)] {
        [
            ("alpha", "\(alpha)"), ("epsilon", "\(epsilon)"), ("momentum", "\(momentum)"),
            ("weight_decay", "\(weightDecay)"), ("centered", "\(centered)"),
        ]
    }

    override func update(
        _ parameter: Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout ParameterState<Scalar>
    ) {
        let buffers = stateBufferNames.map { buffer($0, in: &state, shape: parameter.shape) }
        withUpdatePointers(parameter, gradient, buffers) { values, gradients, pointers, count in
            RMSpropKernel.run(
                values: values, gradients: gradients, squareAverage: pointers[0],
                gradientAverage: centered ? pointers[1] : nil,
                momentumBuffer: momentum > 0 ? pointers[pointers.count - 1] : nil, count: count,
                learningRate: Scalar(learningRate), alpha: Scalar(alpha),
                oneMinusAlpha: Scalar(1 - alpha), epsilon: Scalar(epsilon),
                momentum: Scalar(momentum), weightDecay: Scalar(weightDecay))
        }
    }
}

enum RMSpropKernel {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: TensorScalar>(
        values: UnsafeMutablePointer<S>, gradients: UnsafePointer<S>,
        squareAverage v: UnsafeMutablePointer<S>, gradientAverage a: UnsafeMutablePointer<S>?,
        momentumBuffer b: UnsafeMutablePointer<S>?, count: Int, learningRate: S, alpha: S,
        oneMinusAlpha: S, epsilon: S, momentum: S, weightDecay: S
    ) {
        // Values are read into locals and written once, so that loads need not wait for the
        // stores before them and the loop vectorises.
        for i in 0..<count {
            let theta = values[i]
            let g = weightDecay != 0 ? gradients[i] + weightDecay * theta : gradients[i]
            let squareAverage = alpha * v[i] + oneMinusAlpha * (g * g)
            v[i] = squareAverage
            var variance = squareAverage
            if let a {
                let gradientAverage = alpha * a[i] + oneMinusAlpha * g
                a[i] = gradientAverage
                variance -= gradientAverage * gradientAverage
            }
            let scaled = g / (variance.squareRoot() + epsilon)
            if let b {
                let buffer = momentum * b[i] + scaled
                b[i] = buffer
                values[i] = theta - learningRate * buffer
            } else {
                values[i] = theta - learningRate * scaled
            }
        }
    }
}
