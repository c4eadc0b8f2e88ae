import ODESolvers
import TensorEngine

/// Tensors are states the solvers can integrate directly; a batch is a leading dimension.
///
/// The combinations are one fused pass per stage. When recording is on and a term requires
/// gradients, they are `Tensor.linearCombination`, a recorded operation. That is what makes
/// backpropagation through a solve (`GradientMethod.backpropagation`) work with no
/// solver-specific code. Otherwise they write straight into a new tensor with no intermediate
/// arrays, which is the path of a solve without gradients and of the adjoint's solves.
extension Tensor: ODEState {
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func adding(_ terms: ArraySlice<Tensor>, scaledBy coefficients: ArraySlice<Double>)
        -> Tensor
    {
        precondition(
            terms.count == coefficients.count,
            "Tensor.adding: \(terms.count) terms but \(coefficients.count) coefficients")
        if GradientMode.isEnabled && (requiresGradient || terms.contains(where: \.requiresGradient)) {
            return recordedCombination(self, 1, terms, coefficients)
        }
        var hasTerm = false
        for (term, coefficient) in zip(terms, coefficients) where coefficient != 0 {
            precondition(term.shape == shape, "Tensor.adding: shapes \(shape) and \(term.shape) differ")
            hasTerm = true
        }
        if !hasTerm { return self }
        return Tensor(shape: shape) { out in
            combine(into: out.baseAddress!, count: out.count, start: self, terms, coefficients)
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linearCombination(
        of terms: ArraySlice<Tensor>, scaledBy coefficients: ArraySlice<Double>
    ) -> Tensor {
        precondition(
            !terms.isEmpty && terms.count == coefficients.count,
            "Tensor.linearCombination: \(terms.count) terms and \(coefficients.count) coefficients; "
                + "expected the same non-zero count")
        if GradientMode.isEnabled && terms.contains(where: \.requiresGradient) {
            return recordedCombination(nil, 0, terms, coefficients)
        }
        let shape = terms[terms.startIndex].shape
        for term in terms {
            precondition(
                term.shape == shape, "Tensor.linearCombination: shapes \(shape) and \(term.shape) differ")
        }
        return Tensor(shape: shape) { out in
            combine(into: out.baseAddress!, count: out.count, start: nil, terms, coefficients)
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
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

/// `start + Σ coefficients[i] terms[i]` (or the sum alone without `start`) as the recorded
/// operation `Tensor.linearCombination`, skipping zero coefficients.
private func recordedCombination<Scalar: TensorScalar>(
    _ start: Tensor<Scalar>?, _ startCoefficient: Scalar, _ terms: ArraySlice<Tensor<Scalar>>,
    _ coefficients: ArraySlice<Double>
) -> Tensor<Scalar> {
    var allTerms: [Tensor<Scalar>] = []
    var allCoefficients: [Scalar] = []
    allTerms.reserveCapacity(terms.count + 1)
    allCoefficients.reserveCapacity(terms.count + 1)
    if let start {
        allTerms.append(start)
        allCoefficients.append(startCoefficient)
    }
    for (term, coefficient) in zip(terms, coefficients) where coefficient != 0 || start == nil {
        allTerms.append(term)
        allCoefficients.append(Scalar(coefficient))
    }
    if allTerms.count == 1, let start { return start }
    return Tensor.linearCombination(allTerms, coefficients: allCoefficients)
}

/// Values per block of the fused combination: every term is added to one block while it is
/// in the first-level cache, and the block is written once.
private let combinationBlock = 1024

/// Writes `start + Σ c_i t_i` (or `Σ c_i t_i` when `start` is nil) into `out`, skipping zero
/// coefficients after the first term.
///
/// The arithmetic is that of `Tensor.linearCombination`: the first value, then each product
/// added in term order, without fused multiply-adds, so both paths round alike.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func combine<Scalar: TensorScalar>(
    into out: UnsafeMutablePointer<Scalar>, count: Int, start: Tensor<Scalar>?,
    _ terms: ArraySlice<Tensor<Scalar>>, _ coefficients: ArraySlice<Double>
) {
    let termCount = terms.count
    withUnsafeTemporaryAllocation(of: UnsafePointer<Scalar>.self, capacity: termCount + 1) { pointers in
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: termCount + 1) { scales in
            // The first entry is the start, with scale 1, or the first term with its own scale.
            var used = 0
            for (offset, (term, coefficient)) in zip(terms, coefficients).enumerated()
            where coefficient != 0 || (start == nil && offset == 0) {
                if used == 0, let start {
                    pointers[0] = start.withUnsafeBufferPointer { $0.baseAddress! }
                    scales[0] = 1
                    used = 1
                }
                pointers[used] = term.withUnsafeBufferPointer { $0.baseAddress! }
                scales[used] = Scalar(coefficient)
                used += 1
            }
            if used == 0, let start {
                pointers[0] = start.withUnsafeBufferPointer { $0.baseAddress! }
                scales[0] = 1
                used = 1
            }
            // The pointers stay valid because `terms` and `start` keep their tensors alive.
            withExtendedLifetime((terms, start)) {
                var blockStart = 0
                while blockStart < count {
                    let blockEnd = Swift.min(blockStart + combinationBlock, count)
                    let first = pointers[0]
                    let firstScale = scales[0]
                    if start != nil {
                        for i in blockStart..<blockEnd { out[i] = first[i] }
                    } else {
                        for i in blockStart..<blockEnd { out[i] = firstScale * first[i] }
                    }
                    for term in 1..<used {
                        let source = pointers[term]
                        let scale = scales[term]
                        for i in blockStart..<blockEnd { out[i] += scale * source[i] }
                    }
                    blockStart = blockEnd
                }
            }
        }
    }
}
