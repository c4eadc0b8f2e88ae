import ODESolvers

/// The method that computes gradients through an ODE solve.
public enum GradientMethod: Sendable {
    /// Records every operation of the solver and backpropagates through them ("RK-Net" in
    /// Chen et al. 2018). Exact gradients of the discretised solution; memory grows with the
    /// number of steps.
    case backpropagation

    /// The adjoint sensitivity method of Chen et al. 2018 (Section 2): one backward solve of
    /// the augmented state `(z, a = ∂L/∂z, ∂L/∂θ)` from the last output time to the first,
    /// with `z` reconstructed backwards from the forward solution at each output time. Memory
    /// does not grow with the number of steps.
    ///
    /// The gradient approximates the exact one to within the backward solve's tolerances. It
    /// can drift from it on dynamics that are unstable backwards in time, so use
    /// `checkpointedAdjoint` there.
    case adjoint(AdjointOptions = AdjointOptions())

    /// The adjoint computed segment by segment from states stored during the forward solve.
    /// Each group of `stepsPerCheckpoint` accepted steps is re-run from its stored start with
    /// recording on and backpropagated. The gradient is then that of the discretised solution,
    /// even where the backward reconstruction of `z` would drift. Memory grows with the number
    /// of checkpoints plus one segment's operations.
    case checkpointedAdjoint(stepsPerCheckpoint: Int = 1)

    /// The adjoint method with default options.
    public static var adjoint: GradientMethod { .adjoint(AdjointOptions()) }
}

/// Options of the backward solve of the adjoint method.
public struct AdjointOptions: Sendable {
    /// Method of the backward solve; `nil` uses the forward method.
    public var method: ODEMethod?
    /// Relative tolerance of the backward solve; `nil` uses the forward one.
    public var relativeTolerance: Double?
    /// Absolute tolerance of the backward solve; `nil` uses the forward one.
    public var absoluteTolerance: Double?
    /// Leaves the parameter-gradient channels out of the error estimate (Kidger, Chen and
    /// Lyons, "'Hey, that's not an ODE': faster ODE adjoints via seminorms", ICML 2021). They
    /// do not feed back into the dynamics, so controlling their error only costs steps.
    public var usesSeminorm: Bool
    /// Step limit of the backward solve; `nil` uses the forward one.
    public var maximumSteps: Int?

    public init(
        method: ODEMethod? = nil, relativeTolerance: Double? = nil,
        absoluteTolerance: Double? = nil, usesSeminorm: Bool = true, maximumSteps: Int? = nil
    ) {
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.usesSeminorm = usesSeminorm
        self.maximumSteps = maximumSteps
    }
}
