extension Tensor {
    /// Records `result` as the output of an operation defined outside the engine, such as an
    /// ODE solve whose gradient comes from the adjoint method.
    ///
    /// Nothing is recorded when recording is off or no input requires gradients; `result` is
    /// returned either way. `result` must be a fresh tensor that no recorded operation produced.
    ///
    /// - Parameters:
    ///   - name: Operation name shown in error messages.
    ///   - result: The computed output.
    ///   - inputs: The tensors the output depends on.
    ///   - pullback: Maps the output's cotangent to one cotangent per input (`nil` for none),
    ///     each with its input's shape. It runs with recording off unless the caller asked
    ///     `gradients(…, createGraph: true)`.
    public static func recordingCustomOperation(
        _ name: StaticString, result: Tensor, inputs: [Tensor],
        pullback: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard shouldRecord(inputs) else { return result }
        precondition(
            result.gradientNode == nil && !result.isGradientLeaf,
            "recordingCustomOperation(\(name)): the result is already part of a recorded graph; pass a fresh tensor")
        return result.recorded(name, inputs, pullback: pullback)
    }
}

/// Returns the leaves that require gradients and that `outputs` depend on through recorded
/// operations, each once.
///
/// The adjoint method uses this to find parameters the dynamics read but the caller did not
/// list, whose gradients it would otherwise leave out without a word.
public func recordedLeaves<Scalar>(of outputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
    topologicalOrder(from: outputs).filter { $0.isGradientLeaf }
}
