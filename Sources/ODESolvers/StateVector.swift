/// A dense vector of `Float` or `Double` values that the solvers can integrate.
///
/// Use it for small systems and tests; tensor types provide their own ``ODEState``
/// conformance. `StateVector<Float>` keeps the state in single precision while time stays
/// `Double`.
///
/// ```swift
/// let y0: StateVector<Double> = [1, 0]
/// let solution = try odeint({ _, y in [y[1], -y[0]] }, y0, at: [0, 1, 2])
/// ```
public struct StateVector<Scalar: BinaryFloatingPoint & Sendable>: Sendable {
    /// The components, in the order the error norm numbers them.
    public var scalars: [Scalar]

    /// Creates a vector with the given components.
    @inlinable
    public init(_ scalars: [Scalar]) {
        self.scalars = scalars
    }

    /// Creates a vector of `count` copies of `value`.
    @inlinable
    public init(repeating value: Scalar, count: Int) {
        self.scalars = Array(repeating: value, count: count)
    }
}

extension StateVector: RandomAccessCollection, MutableCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { scalars.count }

    @inlinable
    public subscript(position: Int) -> Scalar {
        get { scalars[position] }
        set { scalars[position] = newValue }
    }
}

extension StateVector: ExpressibleByArrayLiteral {
    @inlinable
    public init(arrayLiteral elements: Scalar...) {
        self.scalars = elements
    }
}

extension StateVector: Hashable {}

extension StateVector: CustomStringConvertible {
    public var description: String { scalars.description }
}

extension StateVector: ODEState {
    @inlinable
    public func adding(_ terms: ArraySlice<StateVector>, scaledBy coefficients: ArraySlice<Double>)
        -> StateVector
    {
        precondition(
            terms.count == coefficients.count,
            "StateVector.adding: \(terms.count) terms but \(coefficients.count) coefficients")
        var result = scalars
        let count = result.count
        result.withUnsafeMutableBufferPointer { output in
            for (term, coefficient) in zip(terms, coefficients) where coefficient != 0 {
                precondition(
                    term.scalars.count == count,
                    "StateVector.adding: a term has \(term.scalars.count) components, expected \(count)")
                let scale = Scalar(coefficient)
                term.scalars.withUnsafeBufferPointer { input in
                    for j in 0..<count {
                        output[j] += scale * input[j]
                    }
                }
            }
        }
        return StateVector(result)
    }

    @inlinable
    public static func linearCombination(
        of terms: ArraySlice<StateVector>, scaledBy coefficients: ArraySlice<Double>
    ) -> StateVector {
        precondition(
            !terms.isEmpty && terms.count == coefficients.count,
            "StateVector.linearCombination: \(terms.count) terms and \(coefficients.count) "
                + "coefficients; expected the same non-zero count")
        let first = terms[terms.startIndex]
        let firstScale = Scalar(coefficients[coefficients.startIndex])
        let start = StateVector(first.scalars.map { firstScale * $0 })
        return start.adding(terms.dropFirst(), scaledBy: coefficients.dropFirst())
    }

    @inlinable
    public var scalarCount: Int { scalars.count }

    @inlinable
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }

    @inlinable
    public static func accumulateError(
        _ error: StateVector,
        previous: StateVector,
        proposal: StateVector,
        into norm: inout ErrorNormAccumulator
    ) {
        error.scalars.withUnsafeBufferPointer { errorBuffer in
            previous.scalars.withUnsafeBufferPointer { previousBuffer in
                proposal.scalars.withUnsafeBufferPointer { proposalBuffer in
                    norm.accumulate(error: errorBuffer, previous: previousBuffer, proposal: proposalBuffer)
                }
            }
        }
    }
}
