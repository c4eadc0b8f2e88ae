import TensorEngine

/// Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), with the
/// update rule of PyTorch's `torch.optim.Adam` (documentation of PyTorch 1.13), without
/// AMSGrad:
///
/// ```
/// g ← ∇f(θ) + λ θ                      (weight decay λ, coupled as in PyTorch's Adam)
/// m ← β₁ m + (1 − β₁) g
/// v ← β₂ v + (1 − β₂) g²
/// θ ← θ − γ m̂ / (√v̂ + ε),   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
/// ```
///
/// `t` counts the updates of each parameter. The update is evaluated as
/// `θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`, the same value. The moments are saved
/// in checkpoints as `exp_avg` and `exp_avg_sq`.
public final class Adam<Scalar: TensorScalar>: Optimizer<Scalar> {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let weightDecay: Double

    /// - Precondition: `beta1` and `beta2` are in [0, 1); `learningRate`, `epsilon` and
    ///   `weightDecay` are non-negative.
    public init(
        parameters: [(name: String, tensor: Tensor<Scalar>)], learningRate: Double = 1e-3,
        beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0
    ) {
        precondition(beta1 >= 0 && beta1 < 1, "Adam: beta1 must be in [0, 1), got \(beta1)")
        precondition(beta2 >= 0 && beta2 < 1, "Adam: beta2 must be in [0, 1), got \(beta2)")
        precondition(epsilon >= 0, "Adam: epsilon must be non-negative, got \(epsilon)")
        precondition(weightDecay >= 0, "Adam: weightDecay must be non-negative, got \(weightDecay)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override var algorithmName: String { "Adam" }

    override var stateBufferNames: [String] { ["exp_avg", "exp_avg_sq"] }

    override var hyperparameters: [(name: String, value: String)] {
        [
            ("beta1", "\(beta1)"), ("beta2", "\(beta2)"), ("epsilon", "\(epsilon)"),
            ("weight_decay", "\(weightDecay)"),
        ]
    }

    override func update(
        _ parameter: Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout ParameterState<Scalar>
    ) {
        let firstMoment = buffer("exp_avg", in: &state, shape: parameter.shape)
        let secondMoment = buffer("exp_avg_sq", in: &state, shape: parameter.shape)
        let t = Double(state.step)
        let correction1 = 1 - Double.pow(beta1, t)
        let correction2 = 1 - Double.pow(beta2, t)
        let stepSize = Scalar(learningRate / correction1)
        let inverseRootCorrection2 = Scalar(1 / correction2.squareRoot())
        // 1 − β is formed in Double, as PyTorch does: 1 − Float(0.999) is off by 1.3e-5 relative.
        let (b1, b2, eps, decay) = (Scalar(beta1), Scalar(beta2), Scalar(epsilon), Scalar(weightDecay))
        let (oneMinusBeta1, oneMinusBeta2) = (Scalar(1 - beta1), Scalar(1 - beta2))
        withUpdatePointers(parameter, gradient, [firstMoment, secondMoment]) { values, gradients, moments, count in
            AdamKernel.run(
                values: values, gradients: gradients, firstMoment: moments[0], secondMoment: moments[1],
                count: count, stepSize: stepSize, inverseRootCorrection2: inverseRootCorrection2,
                beta1: b1, beta2: b2, oneMinusBeta1: oneMinusBeta1, oneMinusBeta2: oneMinusBeta2,
                epsilon: eps, weightDecay: decay)
        }
    }
}

enum AdamKernel {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: TensorScalar>(
        values: UnsafeMutablePointer<S>, gradients: UnsafePointer<S>,
        firstMoment m: UnsafeMutablePointer<S>, secondMoment v: UnsafeMutablePointer<S>, count: Int,
        stepSize: S, inverseRootCorrection2: S, beta1: S, beta2: S, oneMinusBeta1: S,
        oneMinusBeta2: S, epsilon: S, weightDecay: S
    ) {
        // Values are read into locals and written once, so that loads need not wait for the
        // stores before them and the loop vectorises (three times faster than updating m[i]
        // and v[i] in place and reading them back).
        for i in 0..<count {
            let theta = values[i]
            let g = weightDecay != 0 ? gradients[i] + weightDecay * theta : gradients[i]
            let firstMoment = beta1 * m[i] + oneMinusBeta1 * g
            let secondMoment = beta2 * v[i] + oneMinusBeta2 * (g * g)
            m[i] = firstMoment
            v[i] = secondMoment
            let denominator = secondMoment.squareRoot() * inverseRootCorrection2 + epsilon
            values[i] = theta - stepSize * firstMoment / denominator
        }
    }
}
