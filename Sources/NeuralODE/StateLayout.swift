import TensorEngine

/// The parts of a multi-tensor state laid end to end in one flat row, so that a solve's output
/// can be one recorded tensor of shape `[times, totalCount]`.
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

    /// Packs the states at each time into one tensor `[states.count, totalCount]`; nothing is
    /// recorded.
    func pack<Scalar>(_ states: [[Tensor<Scalar>]]) -> Tensor<Scalar> {
        Tensor(shape: [states.count, totalCount]) { out in
            for (row, parts) in states.enumerated() {
                for (part, tensor) in parts.enumerated() {
                    tensor.withUnsafeBufferPointer { source in
                        let target = out.baseAddress! + row * totalCount + offsets[part]
                        if !source.isEmpty { target.update(from: source.baseAddress!, count: source.count) }
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
