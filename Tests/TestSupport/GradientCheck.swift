import TensorEngine

/// The largest disagreement found by a gradient check, with where it was found.
public struct GradientCheckResult: CustomStringConvertible {
    public var maxError: Double = 0
    public var input = 0
    public var index = 0
    public var analytic = 0.0
    public var numeric = 0.0

    /// True when every component agreed within the tolerances used.
    public var passed: Bool { maxError <= 1 }

    public var description: String {
        "input \(input), element \(index): analytic \(analytic), central difference \(numeric) (scaled error \(maxError))"
    }
}

/// Compares the reverse-mode gradients of `function` with central differences.
///
/// The check differentiates `Σ f(x) · r` for a fixed random cotangent `r`, so it exercises the
/// full vector-Jacobian product, not only the gradient of a sum. The scaled error of a
/// component is `|analytic − numeric| / (absoluteTolerance + relativeTolerance · |numeric|)`,
/// and the check passes when it is at most 1 everywhere.
public func checkGradients(
    of function: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
    step: Double = 1e-6, relativeTolerance: Double = 1e-5, absoluteTolerance: Double = 1e-7,
    seed: UInt64 = 7
) -> GradientCheckResult {
    var generator = RandomGenerator(seed: seed)
    let leaves = inputs.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars).requiringGradient() }
    let output = function(leaves)
    let cotangent = Tensor<Double>(randomNormal: output.shape, generator: &generator)
    let analytic = gradients(of: output, withRespectTo: leaves, seed: cotangent)

    func objective(_ values: [Tensor<Double>]) -> Double {
        withoutGradients { (function(values) * cotangent).sum().scalar }
    }

    var result = GradientCheckResult()
    for (inputIndex, input) in inputs.enumerated() {
        for element in 0..<input.scalarCount {
            let values = inputs.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars) }
            values[inputIndex].withUnsafeMutableBufferPointer { $0[element] += step }
            let plus = objective(values)
            values[inputIndex].withUnsafeMutableBufferPointer { $0[element] -= 2 * step }
            let minus = objective(values)
            let numeric = (plus - minus) / (2 * step)
            let exact = analytic[inputIndex].scalars[element]
            let error = Swift.abs(exact - numeric) / (absoluteTolerance + relativeTolerance * Swift.abs(numeric))
            if error > result.maxError || error.isNaN {
                result = GradientCheckResult(
                    maxError: error.isNaN ? .infinity : error, input: inputIndex, index: element,
                    analytic: exact, numeric: numeric)
            }
        }
    }
    return result
}

/// Checks second derivatives: the gradient of `Σ (∂(Σ f(x)·r)/∂x) · s` for fixed random `r`, `s`,
/// computed by differentiating a recorded backward pass, against central differences.
public func checkSecondGradients(
    of function: @escaping ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
    step: Double = 1e-5, relativeTolerance: Double = 1e-4, absoluteTolerance: Double = 1e-6
) -> GradientCheckResult {
    var generator = RandomGenerator(seed: 11)
    let probeOutput = withoutGradients { function(inputs) }
    let cotangent = Tensor<Double>(randomNormal: probeOutput.shape, generator: &generator)
    let directions = inputs.map { Tensor<Double>(randomNormal: $0.shape, generator: &generator) }

    // h(x) = Σ_i vjp_i(x) · s_i, whose gradient involves the second derivatives of f.
    let firstOrder: ([Tensor<Double>]) -> Tensor<Double> = { values in
        let leaves = GradientMode.isEnabled
            ? values : values.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars).requiringGradient() }
        let output = withGradientMode(enabled: true) { function(leaves) }
        let vectorJacobian = gradients(
            of: output, withRespectTo: leaves, seed: cotangent, createGraph: GradientMode.isEnabled)
        var total = Tensor<Double>(0)
        for (product, direction) in zip(vectorJacobian, directions) {
            total = total + (product * direction).sum()
        }
        return total
    }
    return checkGradients(
        of: firstOrder, at: inputs, step: step, relativeTolerance: relativeTolerance,
        absoluteTolerance: absoluteTolerance)
}
