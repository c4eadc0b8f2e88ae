import TensorEngine

/// The method by which the dynamics of a continuous normalizing flow compute `tr(∂f/∂z)`, the rate of change
/// of the log-density (Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018,
/// Theorem 1: `d log p(z(t))/dt = -tr(∂f/∂z(t))`).
public enum TraceEstimator: Sendable, Hashable {
    /// The exact trace by automatic differentiation: one vector-Jacobian product per
    /// dimension `d`, so the cost grows as `d` evaluations of the backward pass.
    case exact
    /// Hutchinson's unbiased estimate `εᵀ (∂f/∂z) ε` with `E[εεᵀ] = I`: one vector-Jacobian
    /// product whatever the dimension (Grathwohl et al., "FFJORD", ICLR 2019). The noise `ε`
    /// is drawn once per solve and held fixed while the solver runs, so that the dynamics are
    /// a smooth function of time.
    case hutchinson(HutchinsonNoise)
    /// The vector field's own closed-form trace (`CNFVectorField.valueAndTrace`), with no
    /// vector-Jacobian product at all. Only fields that provide one support it.
    case closedForm
}

/// The distribution of the probe vectors of Hutchinson's trace estimator. Both have mean zero
/// and identity covariance, which makes the estimate unbiased.
public enum HutchinsonNoise: String, Sendable, Hashable, CaseIterable {
    /// Independent standard normal entries.
    case gaussian
    /// Independent entries of ±1 with equal probability. The estimate of a diagonal matrix's
    /// trace is then exact. For `S = (J + Jᵀ)/2` its variance is `2(‖S‖²_F - Σᵢ Sᵢᵢ²)`, never
    /// above the Gaussian probes' `2‖S‖²_F`.
    case rademacher

    /// Draws a tensor of probe vectors of the given shape.
    public func sample<Scalar: TensorScalar>(
        shape: [Int], generator: inout RandomGenerator
    ) -> Tensor<Scalar> {
        switch self {
        case .gaussian:
            return Tensor(randomNormal: shape, generator: &generator)
        case .rademacher:
            return Tensor(shape: shape) { values in
                for index in values.indices {
                    values[index] = generator.next() & 1 == 0 ? -1 : 1
                }
            }
        }
    }
}

/// Computes the trace of `∂output/∂input` for every row of a batch, exactly, by one
/// vector-Jacobian product per column.
///
/// Product `i` seeds the output with ones in column `i`, which gives row `b` the `i`-th row
/// of the Jacobian of `output[b]` with respect to `input[b]`. Only its diagonal entry is kept.
/// Rows must not interact (row `b` of the output depends only on row `b` of the input), as
/// for a batch of independent points.
///
/// - Parameters:
///   - output: `f(z)`, shape `[batch, d]`, recorded from `input`.
///   - input: `z`, shape `[batch, d]`; it must require gradients.
///   - createGraph: Records the products, so that the trace can be differentiated again (for
///     training through the trace).
/// - Returns: The traces, shape `[batch, 1]`.
public func exactJacobianTrace<Scalar>(
    of output: Tensor<Scalar>, withRespectTo input: Tensor<Scalar>, createGraph: Bool
) -> Tensor<Scalar> {
    checkTraceShapes(output, input, caller: "exactJacobianTrace")
    let (batch, dimension) = (input.shape[0], input.shape[1])
    var diagonal: Tensor<Scalar>?
    for column in 0..<dimension {
        let seed: Tensor<Scalar> = oneHotColumns(column, rows: batch, columns: dimension)
        let row = gradients(of: output, withRespectTo: [input], seed: seed, createGraph: createGraph)[0]
        let entry = row * seed
        diagonal = diagonal.map { $0 + entry } ?? entry
    }
    return diagonal!.sum(alongAxis: 1, keepingDimensions: true)
}

/// Computes Hutchinson's estimate `εᵀ (∂output/∂input) ε` of the trace for every row of a
/// batch, with one vector-Jacobian product.
///
/// - Parameters:
///   - output: `f(z)`, shape `[batch, d]`, recorded from `input`.
///   - input: `z`, shape `[batch, d]`; it must require gradients.
///   - noise: The probe vectors `ε`, shape `[batch, d]`, from `HutchinsonNoise.sample`.
///   - createGraph: Records the product, so that the estimate can be differentiated again.
/// - Returns: The estimates, shape `[batch, 1]`.
public func hutchinsonTraceEstimate<Scalar>(
    of output: Tensor<Scalar>, withRespectTo input: Tensor<Scalar>, noise: Tensor<Scalar>,
    createGraph: Bool
) -> Tensor<Scalar> {
    checkTraceShapes(output, input, caller: "hutchinsonTraceEstimate")
    precondition(
        noise.shape == input.shape,
        "hutchinsonTraceEstimate: the noise has shape \(noise.shape) but the input has shape \(input.shape)")
    // εᵀ J is the vector-Jacobian product seeded with ε; its dot product with ε is εᵀ J ε.
    let product = gradients(of: output, withRespectTo: [input], seed: noise, createGraph: createGraph)[0]
    return (product * noise).sum(alongAxis: 1, keepingDimensions: true)
}

private func checkTraceShapes<Scalar>(_ output: Tensor<Scalar>, _ input: Tensor<Scalar>, caller: String) {
    precondition(
        input.rank == 2,
        "\(caller): the input must have shape [batch, dimension], got \(input.shape)")
    precondition(
        output.shape == input.shape,
        "\(caller): the output has shape \(output.shape) but the input has shape \(input.shape); the Jacobian must be square")
}

/// Returns a `[rows, columns]` tensor with ones in column `column` and zeros elsewhere.
private func oneHotColumns<Scalar: TensorScalar>(_ column: Int, rows: Int, columns: Int) -> Tensor<Scalar> {
    Tensor(shape: [rows, columns]) { values in
        for index in values.indices { values[index] = index % columns == column ? 1 : 0 }
    }
}
