/// A vector-space value that the solvers can integrate.
///
/// The solvers never look inside a state except through these requirements. Every new state
/// they build comes from ``adding(_:scaledBy:)`` or ``linearCombination(of:scaledBy:)``, so a
/// conforming type whose two combinations are differentiable tensor operations can be
/// backpropagated through a whole solve. Values are read as `Double` only for step-size
/// control, error norms and event functions.
///
/// Time is always `Double`, whatever the scalar type of the state, so `t + h` never rounds back
/// to `t` while the state is stored in `Float`.
///
/// A conformance for a tensor with contiguous `Float` or `Double` storage implements each
/// combination as one fused pass over its buffer and ``accumulateError(_:previous:proposal:into:)``
/// by handing its three buffers to ``ErrorNormAccumulator/accumulate(error:previous:proposal:)``.
/// Composite states (a pair such as `(z, log p)` of a continuous normalizing flow, or the
/// `(z, a, dL/dθ)` of the adjoint method) forward each requirement to their parts in a fixed
/// order; ``ODEStatePair`` and the `Array` conformance do this.
public protocol ODEState {
    /// Returns `self + Σ coefficients[i] * terms[i]`.
    ///
    /// Terms and coefficients are paired by position and have the same count; their indices
    /// need not start at zero. Coefficients already include the step size, and some may be
    /// zero, in which case an implementation may skip the term.
    func adding(_ terms: ArraySlice<Self>, scaledBy coefficients: ArraySlice<Double>) -> Self

    /// Returns `Σ coefficients[i] * terms[i]` for a non-empty list of terms.
    ///
    /// The solvers use this for error estimates and divided differences, which must not be
    /// formed as a difference of two nearly equal solutions.
    static func linearCombination(of terms: ArraySlice<Self>, scaledBy coefficients: ArraySlice<Double>)
        -> Self

    /// Number of scalar components; this is the `n` of the root-mean-square error norm.
    var scalarCount: Int { get }

    /// True when every component is finite.
    var isFinite: Bool { get }

    /// Adds the scaled squares of `error` to a weighted error norm.
    ///
    /// For every scalar component `j`, in one fixed order that all values of the type share,
    /// the accumulator receives `error[j]` together with `previous[j]` and `proposal[j]`, the
    /// solution at the start and at the end of the step. It scales the error by
    /// `atol_j + rtol_j * max(|previous[j]|, |proposal[j]|)`.
    static func accumulateError(
        _ error: Self,
        previous: Self,
        proposal: Self,
        into norm: inout ErrorNormAccumulator
    )
}
