/// Two states integrated together, such as `(z, log p)` of a continuous normalizing flow.
///
/// Every requirement forwards to `first` and then to `second`, so the error norm numbers the
/// components of `first` before those of `second`. Nest pairs for three or more parts, or use
/// an array of states when the parts share a type.
public struct ODEStatePair<First: ODEState, Second: ODEState>: ODEState {
    public var first: First
    public var second: Second

    @inlinable
    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    @inlinable
    public func adding(_ terms: ArraySlice<ODEStatePair>, scaledBy coefficients: ArraySlice<Double>)
        -> ODEStatePair
    {
        ODEStatePair(
            first.adding(ArraySlice(terms.map(\.first)), scaledBy: coefficients),
            second.adding(ArraySlice(terms.map(\.second)), scaledBy: coefficients))
    }

    @inlinable
    public static func linearCombination(
        of terms: ArraySlice<ODEStatePair>, scaledBy coefficients: ArraySlice<Double>
    ) -> ODEStatePair {
        ODEStatePair(
            First.linearCombination(of: ArraySlice(terms.map(\.first)), scaledBy: coefficients),
            Second.linearCombination(of: ArraySlice(terms.map(\.second)), scaledBy: coefficients))
    }

    @inlinable
    public var scalarCount: Int { first.scalarCount + second.scalarCount }

    @inlinable
    public var isFinite: Bool { first.isFinite && second.isFinite }

    @inlinable
    public static func accumulateError(
        _ error: ODEStatePair,
        previous: ODEStatePair,
        proposal: ODEStatePair,
        into norm: inout ErrorNormAccumulator
    ) {
        First.accumulateError(error.first, previous: previous.first, proposal: proposal.first, into: &norm)
        Second.accumulateError(
            error.second, previous: previous.second, proposal: proposal.second, into: &norm)
    }
}

extension ODEStatePair: Sendable where First: Sendable, Second: Sendable {}
extension ODEStatePair: Equatable where First: Equatable, Second: Equatable {}

/// A list of states integrated together, such as the parameter gradients `dL/dθ` of the
/// adjoint method, one tensor per parameter.
///
/// All arrays that meet in one combination must have the same count. The error norm numbers
/// the components of element 0 first, then those of element 1, and so on.
extension Array: ODEState where Element: ODEState {
    @inlinable
    public func adding(_ terms: ArraySlice<[Element]>, scaledBy coefficients: ArraySlice<Double>)
        -> [Element]
    {
        var result: [Element] = []
        result.reserveCapacity(count)
        var column: [Element] = []
        column.reserveCapacity(terms.count)
        for index in indices {
            column.removeAll(keepingCapacity: true)
            for term in terms {
                precondition(
                    term.count == count,
                    "Array.adding: a term has \(term.count) elements, expected \(count)")
                column.append(term[index])
            }
            result.append(self[index].adding(column[...], scaledBy: coefficients))
        }
        return result
    }

    @inlinable
    public static func linearCombination(
        of terms: ArraySlice<[Element]>, scaledBy coefficients: ArraySlice<Double>
    ) -> [Element] {
        precondition(!terms.isEmpty, "Array.linearCombination: no terms")
        let count = terms[terms.startIndex].count
        var result: [Element] = []
        result.reserveCapacity(count)
        var column: [Element] = []
        column.reserveCapacity(terms.count)
        for index in 0..<count {
            column.removeAll(keepingCapacity: true)
            for term in terms {
                precondition(
                    term.count == count,
                    "Array.linearCombination: a term has \(term.count) elements, expected \(count)")
                column.append(term[index])
            }
            result.append(Element.linearCombination(of: column[...], scaledBy: coefficients))
        }
        return result
    }

    @inlinable
    public var scalarCount: Int { reduce(0) { $0 + $1.scalarCount } }

    @inlinable
    public var isFinite: Bool { allSatisfy(\.isFinite) }

    @inlinable
    public static func accumulateError(
        _ error: [Element],
        previous: [Element],
        proposal: [Element],
        into norm: inout ErrorNormAccumulator
    ) {
        precondition(
            error.count == previous.count && error.count == proposal.count,
            "Array.accumulateError: arrays of \(error.count), \(previous.count) and "
                + "\(proposal.count) elements")
        for index in error.indices {
            Element.accumulateError(
                error[index], previous: previous[index], proposal: proposal[index], into: &norm)
        }
    }
}
