/// Shape rules shared by the operations: broadcasting, axis normalisation and strides.
public enum ShapeRules {
    /// The broadcast shape of two shapes by NumPy's rules: align the trailing dimensions,
    /// and a dimension of size 1 stretches to match the other.
    public static func broadcast(_ a: [Int], _ b: [Int], operation: StaticString) -> [Int] {
        if a == b { return a }
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(
                x == y || x == 1 || y == 1,
                "\(operation): shapes \(a) and \(b) cannot be broadcast (dimension \(i) of the result: \(x) vs \(y))"
            )
            result[i] = x == 1 ? y : x
        }
        return result
    }

    /// True when `shape` broadcasts to `target` without changing `target`.
    public static func canBroadcast(_ shape: [Int], to target: [Int]) -> Bool {
        guard shape.count <= target.count else { return false }
        let offset = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 && shape[i] != target[i + offset] {
            return false
        }
        return true
    }

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = step
            step *= shape[i]
        }
        return strides
    }

    /// Strides that read a tensor of shape `shape` as if broadcast to `target`: 0 on stretched
    /// and missing dimensions.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        var result = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] != 1 {
            result[i + offset] = own[i]
        }
        return result
    }

    /// Maps a possibly negative axis into `0..<rank`, or stops with a message naming the
    /// operation, the axis and the shape.
    public static func normalize(axis: Int, rank: Int, shape: [Int], operation: StaticString) -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        precondition(
            normalized >= 0 && normalized < rank,
            "\(operation): axis \(axis) is out of range for shape \(shape) (rank \(rank))")
        return normalized
    }
}

/// Walks the elements of an n-dimensional result in row-major order and yields, for each run
/// along the innermost dimension, the offsets into two broadcast operands.
struct BroadcastIterator {
    let shape: [Int]
    let stridesA: [Int]
    let stridesB: [Int]

    /// Calls `body(offsetA, offsetB, outputOffset, innerCount, innerStrideA, innerStrideB)` once
    /// per innermost run.
    @inline(__always)
    func forEachRun(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        if rank == 0 {
            body(0, 0, 0, 1, 0, 0)
            return
        }
        let inner = shape[rank - 1]
        let innerA = stridesA[rank - 1]
        let innerB = stridesB[rank - 1]
        var outerCount = 1
        for i in 0..<(rank - 1) { outerCount *= shape[i] }
        if outerCount == 0 || inner == 0 { return }
        var index = [Int](repeating: 0, count: rank)
        var offsetA = 0
        var offsetB = 0
        for run in 0..<outerCount {
            body(offsetA, offsetB, run * inner, inner, innerA, innerB)
            // Advance the outer multi-index like an odometer.
            var dim = rank - 2
            while dim >= 0 {
                index[dim] += 1
                offsetA += stridesA[dim]
                offsetB += stridesB[dim]
                if index[dim] < shape[dim] { break }
                offsetA -= stridesA[dim] * shape[dim]
                offsetB -= stridesB[dim] * shape[dim]
                index[dim] = 0
                dim -= 1
            }
        }
    }
}
