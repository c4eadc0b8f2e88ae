import ODESolvers
import TensorEngine

/// Tensors are states the solvers can integrate directly; a batch is a leading dimension.
///
/// The combinations are `Tensor.linearCombination`, one fused pass per stage, and a recorded
/// operation when recording is on. That is what makes backpropagation through a solve
/// (`GradientMethod.backpropagation`) work with no solver-specific code.
extension Tensor: ODEState {
    public func adding(_ terms: ArraySlice<Tensor>, scaledBy coefficients: ArraySlice<Double>)
        -> Tensor
    {
        var allTerms = [self]
        var allCoefficients: [Scalar] = [1]
        allTerms.reserveCapacity(terms.count + 1)
        allCoefficients.reserveCapacity(terms.count + 1)
        for (term, coefficient) in zip(terms, coefficients) where coefficient != 0 {
            allTerms.append(term)
            allCoefficients.append(Scalar(coefficient))
        }
        if allTerms.count == 1 { return self }
        return Tensor.linearCombination(allTerms, coefficients: allCoefficients)
    }

    public static func linearCombination(
        of terms: ArraySlice<Tensor>, scaledBy coefficients: ArraySlice<Double>
    ) -> Tensor {
        Tensor.linearCombination(Array(terms), coefficients: coefficients.map { Scalar($0) })
    }

    public static func accumulateError(
        _ error: Tensor, previous: Tensor, proposal: Tensor, into norm: inout ErrorNormAccumulator
    ) {
        error.withUnsafeBufferPointer { errorValues in
            previous.withUnsafeBufferPointer { previousValues in
                proposal.withUnsafeBufferPointer { proposalValues in
                    norm.accumulate(error: errorValues, previous: previousValues, proposal: proposalValues)
                }
            }
        }
    }
}
