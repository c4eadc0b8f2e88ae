import TensorEngine

/// The parts of a multi-tensor state laid end to end in one flat row, so that a solve's output
/// can be one recorded tensor of shape `[times, totalCount]`, and so that the solvers can
/// integrate the whole state as one tensor.
///
/// A *packed* state is one tensor that contains every part: the part itself when there is only
/// one, else a vector of `totalCount` values with part `p` at `offsets[p]`. The solvers combine
/// a packed state in one fused pass per stage, where a list of parts would cost one pass and
/// several small arrays per part.
struct StateLayout {
    let shapes: [[Int]]
    let counts: [Int]
    let offsets: [Int]
    let totalCount: Int

    init<Scalar>(_ parts: [Tensor<Scalar>]) {
        shapes = parts.map(\.shape)
        counts = parts.map(\.scalarCount)
        var offsets: [Int] = []
        var total = 0
        for count in counts {
            offsets.append(total)
            total += count
        }
        self.offsets = offsets
        totalCount = total
    }

    /// True when the state has one part, which is then its own packed form.
    var isSinglePart: Bool { shapes.count == 1 }

    /// Returns the packed form of `parts`, without recording.
    func packed<Scalar>(_ parts: [Tensor<Scalar>]) -> Tensor<Scalar> {
        if isSinglePart { return parts[0] }
        return Tensor(shape: [totalCount]) { out in
            for (part, tensor) in parts.enumerated() {
                tensor.withUnsafeBufferPointer { source in
                    if !source.isEmpty {
                        let target = out.baseAddress! + offsets[part]
                        target.update(from: source.baseAddress!, count: source.count)
                    }
                }
            }
        }
    }

    /// Returns the parts of a packed state without recording: copies, or the state itself when
    /// there is one part.
    func parts<Scalar>(of packed: Tensor<Scalar>) -> [Tensor<Scalar>] {
        if isSinglePart { return [packed] }
        return unpack(packed, row: 0)
    }

    /// Wraps dynamics of the parts as dynamics of the packed state, for solves that record
    /// nothing.
    func packedDynamics<Scalar>(
        _ dynamics: @escaping (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    ) -> (Double, Tensor<Scalar>) -> Tensor<Scalar> {
        if isSinglePart { return { t, y in dynamics(t, [y])[0] } }
        let layout = self
        return { t, y in layout.packed(dynamics(t, layout.parts(of: y))) }
    }

    /// Stacks packed states into one tensor `[states.count, totalCount]`, without recording.
    func pack<Scalar>(rows states: [Tensor<Scalar>]) -> Tensor<Scalar> {
        Tensor(shape: [states.count, totalCount]) { out in
            for (row, state) in states.enumerated() {
                state.withUnsafeBufferPointer { source in
                    if !source.isEmpty {
                        let target = out.baseAddress! + row * totalCount
                        target.update(from: source.baseAddress!, count: totalCount)
                    }
                }
            }
        }
    }

    /// Copies row `row` of a packed tensor back into one tensor per part; nothing is recorded.
    func unpack<Scalar>(_ packed: Tensor<Scalar>, row: Int) -> [Tensor<Scalar>] {
        packed.withUnsafeBufferPointer { source in
            shapes.indices.map { part in
                Tensor(shape: shapes[part]) { out in
                    let start = source.baseAddress! + row * totalCount + offsets[part]
                    if counts[part] > 0 { out.baseAddress!.update(from: start, count: counts[part]) }
                }
            }
        }
    }

    /// Copies row `row` of a tensor `[rows, totalCount]` into a vector `[totalCount]`.
    func row<Scalar>(_ packed: Tensor<Scalar>, _ row: Int) -> Tensor<Scalar> {
        packed.withUnsafeBufferPointer { source in
            Tensor(shape: [totalCount]) { out in
                if totalCount > 0 {
                    out.baseAddress!.update(from: source.baseAddress! + row * totalCount, count: totalCount)
                }
            }
        }
    }

    /// The parts of a differentiable packed tensor `[times, totalCount]`, each
    /// `[times] + shape`.
    func split<Scalar>(_ packed: Tensor<Scalar>) -> [Tensor<Scalar>] {
        let timeCount = packed.shape[0]
        if shapes.count == 1 { return [packed.reshaped(to: [timeCount] + shapes[0])] }
        return shapes.indices.map { part in
            packed.slice(alongAxis: 1, offsets[part]..<(offsets[part] + counts[part]))
                .reshaped(to: [timeCount] + shapes[part])
        }
    }

    /// The parts flattened and joined into one differentiable vector.
    func flatten<Scalar>(_ parts: [Tensor<Scalar>]) -> Tensor<Scalar> {
        if parts.count == 1 { return parts[0].reshaped(to: [totalCount]) }
        return Tensor.concatenated(parts.map { $0.reshaped(to: [-1]) }, alongAxis: 0)
    }
}

/// Sum of elementwise products of matching parts, as a `Double`.
func dotProduct<Scalar>(_ a: [Tensor<Scalar>], _ b: [Tensor<Scalar>]) -> Double {
    var total = 0.0
    for (x, y) in zip(a, b) {
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                for i in 0..<xs.count { total += Double(xs[i]) * Double(ys[i]) }
            }
        }
    }
    return total
}
