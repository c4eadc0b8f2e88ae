/// Running sum of a weighted root-mean-square error norm, fed component by component.
///
/// The norm of an error `e` between a step's start `a` and its proposal `b` is
///
/// ```
/// sqrt( (1/n) Σ_j ( e_j / (atol_j + rtol_j * max(|a_j|, |b_j|)) )^2 )
/// ```
///
/// over the `n` components that the norm includes. With ``ErrorNorm/seminorm(excludedComponents:)``
/// some components are left out of both the sum and `n`. Components are numbered in the order
/// in which a state's ``ODEState/accumulateError(_:previous:proposal:into:)`` reports them.
public struct ErrorNormAccumulator {
    @usableFromInline let relativeTolerances: [Double]
    @usableFromInline let absoluteTolerances: [Double]
    /// Sorted, non-overlapping, non-empty ranges of excluded component indices.
    @usableFromInline let excludedRanges: [Range<Int>]

    /// Index of the next component to be reported.
    @usableFromInline var componentOffset = 0
    @usableFromInline var sumOfSquares = 0.0
    @usableFromInline var includedCount = 0

    /// Creates an empty accumulator for states of `scalarCount` components, after the checks
    /// that a solve makes on its tolerances and error norm.
    ///
    /// - Throws: ``ODESolveError/invalidTolerance(name:componentIndex:value:)`` for a negative
    ///   or non-finite tolerance, ``ODESolveError/toleranceCountMismatch(name:count:scalarCount:)``
    ///   for per-component tolerances of the wrong length,
    ///   ``ODESolveError/zeroTolerances(componentIndex:)`` where both are zero, and
    ///   ``ODESolveError/invalidOption(name:value:expected:)`` for seminorm ranges outside the
    ///   components.
    public init(
        relativeTolerance: ODETolerance,
        absoluteTolerance: ODETolerance,
        errorNorm: ErrorNorm = .rms,
        scalarCount: Int
    ) throws(ODESolveError) {
        let relative = try Self.validated(relativeTolerance, name: "relativeTolerance", scalarCount: scalarCount)
        let absolute = try Self.validated(absoluteTolerance, name: "absoluteTolerance", scalarCount: scalarCount)
        if let tiny = relative.first(where: { $0 > 0 && $0 < Self.minimumRelativeTolerance }) {
            throw .invalidOption(
                name: "relativeTolerance", value: "\(tiny)",
                expected: "0 or at least \(Self.minimumRelativeTolerance) (10 times Double's machine epsilon), "
                    + "because a smaller relative error cannot be resolved in Double arithmetic")
        }
        for component in 0..<Swift.max(relative.count, absolute.count) {
            let relativeValue = relative[relative.count == 1 ? 0 : component]
            let absoluteValue = absolute[absolute.count == 1 ? 0 : component]
            if relativeValue == 0 && absoluteValue == 0 {
                throw .zeroTolerances(componentIndex: component)
            }
        }
        self.relativeTolerances = relative
        self.absoluteTolerances = absolute
        self.excludedRanges = try Self.mergedExcludedRanges(errorNorm, scalarCount: scalarCount)
    }

    /// The smallest positive relative tolerance accepted, 2.2e-15: 10 times Double's machine
    /// epsilon. Rounding alone makes relative errors of a few epsilons in every step.
    public static let minimumRelativeTolerance = 10 * Double.ulpOfOne

    private static func validated(_ tolerance: ODETolerance, name: String, scalarCount: Int)
        throws(ODESolveError) -> [Double]
    {
        let values = tolerance.values
        let isPerComponent: Bool
        switch tolerance {
        case .scalar: isPerComponent = false
        case .perComponent: isPerComponent = true
        }
        if isPerComponent && values.count != scalarCount {
            throw .toleranceCountMismatch(name: name, count: values.count, scalarCount: scalarCount)
        }
        for (index, value) in values.enumerated() where !(value.isFinite && value >= 0) {
            throw .invalidTolerance(
                name: name, componentIndex: isPerComponent ? index : nil, value: value)
        }
        return values
    }

    /// Returns a seminorm's excluded ranges sorted and merged, after checking their bounds.
    private static func mergedExcludedRanges(_ norm: ErrorNorm, scalarCount: Int)
        throws(ODESolveError) -> [Range<Int>]
    {
        guard case .seminorm(let ranges) = norm else { return [] }
        for range in ranges where range.lowerBound < 0 || range.upperBound > scalarCount {
            throw .invalidOption(
                name: "seminorm excludedComponents", value: "\(range)",
                expected: "ranges inside 0..<\(scalarCount), the state's scalar components")
        }
        var merged: [Range<Int>] = []
        for range in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<Swift.max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Number of components reported so far.
    public var reportedCount: Int { componentOffset }

    /// The weighted RMS norm of the components reported so far, or zero when none is included.
    public var norm: Double {
        includedCount == 0 ? 0 : (sumOfSquares / Double(includedCount)).squareRoot()
    }

    /// Clears the sum and the component counter, keeping the tolerances.
    @usableFromInline
    mutating func reset() {
        componentOffset = 0
        sumOfSquares = 0
        includedCount = 0
    }

    /// Adds the next `error.count` components, read from three buffers of equal length.
    ///
    /// This is the fused loop for a state stored in a contiguous buffer.
    @inlinable
    public mutating func accumulate<Scalar: BinaryFloatingPoint>(
        error: UnsafeBufferPointer<Scalar>,
        previous: UnsafeBufferPointer<Scalar>,
        proposal: UnsafeBufferPointer<Scalar>
    ) {
        precondition(
            error.count == previous.count && error.count == proposal.count,
            "ErrorNormAccumulator: buffers differ in length (error \(error.count), previous "
                + "\(previous.count), proposal \(proposal.count))")
        let start = componentOffset
        let end = start + error.count
        precondition(
            (relativeTolerances.count == 1 || end <= relativeTolerances.count)
                && (absoluteTolerances.count == 1 || end <= absoluteTolerances.count),
            "ErrorNormAccumulator: the state reported \(end) components but the per-component "
                + "tolerances have \(Swift.max(relativeTolerances.count, absoluteTolerances.count)); "
                + "check that accumulateError and scalarCount agree")
        componentOffset = end
        guard !excludedRanges.isEmpty else {
            accumulateIncluded(0..<error.count, firstComponent: start, error, previous, proposal)
            return
        }

        // Walk the included gaps between the excluded ranges that overlap [start, end).
        var cursor = start
        for excluded in excludedRanges where excluded.upperBound > start && excluded.lowerBound < end {
            if excluded.lowerBound > cursor {
                accumulateIncluded(
                    (cursor - start)..<(excluded.lowerBound - start), firstComponent: start,
                    error, previous, proposal)
            }
            cursor = Swift.max(cursor, excluded.upperBound)
        }
        if cursor < end {
            accumulateIncluded(
                (cursor - start)..<(end - start), firstComponent: start, error, previous, proposal)
        }
    }

    /// Adds one component; for states that do not store their values contiguously.
    @inlinable
    public mutating func accumulate<Scalar: BinaryFloatingPoint>(
        error: Scalar, previous: Scalar, proposal: Scalar
    ) {
        var values = (error, previous, proposal)
        withUnsafePointer(to: &values.0) { errorPointer in
            withUnsafePointer(to: &values.1) { previousPointer in
                withUnsafePointer(to: &values.2) { proposalPointer in
                    accumulate(
                        error: UnsafeBufferPointer(start: errorPointer, count: 1),
                        previous: UnsafeBufferPointer(start: previousPointer, count: 1),
                        proposal: UnsafeBufferPointer(start: proposalPointer, count: 1))
                }
            }
        }
    }

    /// Adds the buffer positions in `local`, whose first position is component `firstComponent`.
    @inlinable
    mutating func accumulateIncluded<Scalar: BinaryFloatingPoint>(
        _ local: Range<Int>,
        firstComponent: Int,
        _ error: UnsafeBufferPointer<Scalar>,
        _ previous: UnsafeBufferPointer<Scalar>,
        _ proposal: UnsafeBufferPointer<Scalar>
    ) {
        var sum = 0.0
        if relativeTolerances.count == 1 && absoluteTolerances.count == 1 {
            let relative = relativeTolerances[0]
            let absolute = absoluteTolerances[0]
            // Four lanes at a time: independent partial sums let the loop vectorize.
            var lanes = SIMD4<Double>()
            var j = local.lowerBound
            while j + 4 <= local.upperBound {
                let before = SIMD4(
                    Double(previous[j]), Double(previous[j + 1]), Double(previous[j + 2]),
                    Double(previous[j + 3]))
                let after = SIMD4(
                    Double(proposal[j]), Double(proposal[j + 1]), Double(proposal[j + 2]),
                    Double(proposal[j + 3]))
                let errors = SIMD4(
                    Double(error[j]), Double(error[j + 1]), Double(error[j + 2]), Double(error[j + 3]))
                // Blends instead of pointwiseMax, whose NaN handling keeps it from vectorizing.
                let beforeSize = before.replacing(with: -before, where: before .< 0)
                let afterSize = after.replacing(with: -after, where: after .< 0)
                let size = beforeSize.replacing(with: afterSize, where: afterSize .> beforeSize)
                var scale: SIMD4<Double> = size * relative + absolute
                scale.replace(with: .leastNormalMagnitude, where: scale .< .leastNormalMagnitude)
                let ratio: SIMD4<Double> = errors / scale
                lanes += ratio * ratio
                j += 4
            }
            sum = lanes.sum()
            for j in j..<local.upperBound {
                let size = Swift.max(Double(previous[j]).magnitude, Double(proposal[j]).magnitude)
                // A zero scale (atol = 0 at a zero component) turns any non-zero error into an
                // infinite ratio instead of NaN, so the step is rejected rather than accepted.
                let scale = Swift.max(absolute + relative * size, .leastNormalMagnitude)
                let ratio = Double(error[j]) / scale
                sum += ratio * ratio
            }
        } else {
            let relativeStride = relativeTolerances.count == 1 ? 0 : 1
            let absoluteStride = absoluteTolerances.count == 1 ? 0 : 1
            relativeTolerances.withUnsafeBufferPointer { relative in
                absoluteTolerances.withUnsafeBufferPointer { absolute in
                    for j in local {
                        let component = firstComponent + j
                        let size = Swift.max(
                            Double(previous[j]).magnitude, Double(proposal[j]).magnitude)
                        let scale = Swift.max(
                            absolute[component * absoluteStride]
                                + relative[component * relativeStride] * size,
                            .leastNormalMagnitude)
                        let ratio = Double(error[j]) / scale
                        sum += ratio * ratio
                    }
                }
            }
        }
        sumOfSquares += sum
        includedCount += local.count
    }
}
