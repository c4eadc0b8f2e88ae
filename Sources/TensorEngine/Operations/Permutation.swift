/// Axis permutations (transposes) and their copy kernel.
extension Tensor {
    /// Swaps the last two axes, transposing every matrix of a batch.
    ///
    /// - Precondition: the rank is at least 2.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposed() -> Tensor {
        precondition(
            rank >= 2,
            "transposed(): needs rank 2 or more, got shape \(shape); use expandingShape(at:) to make a vector a matrix"
        )
        var axes = Array(0..<rank)
        axes.swapAt(rank - 2, rank - 1)
        return permuted(axes)
    }

    /// Reorders the axes: axis `i` of the result is axis `axes[i]` of this tensor, as
    /// `torch.permute` and `numpy.transpose` do. Negative axes count from the end.
    ///
    /// The values are copied into row-major order for the new shape. The pullback permutes the
    /// cotangent by the inverse permutation.
    ///
    /// - Precondition: `axes` contains every axis in `-rank..<rank` exactly once.
    /// - Complexity: O(`scalarCount`). Transposes are copied in cache-sized tiles.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(
            axes.count == rank,
            "permuted(_:): \(axes) lists \(axes.count) axes but shape \(shape) has rank \(rank)")
        var normalized = [Int](repeating: 0, count: rank)
        var seen = [Bool](repeating: false, count: rank)
        for (position, axis) in axes.enumerated() {
            let resolved = axis < 0 ? axis + rank : axis
            precondition(
                resolved >= 0 && resolved < rank && !seen[resolved],
                "permuted(_:): \(axes) is not a permutation of the axes of shape \(shape) (axis \(axis) is out of range or repeated)"
            )
            seen[resolved] = true
            normalized[position] = resolved
        }
        let newShape = normalized.map { shape[$0] }

        // When only axes of size 1 move, the row-major order is unchanged and a view suffices.
        let movedAxes = normalized.filter { shape[$0] != 1 }
        if movedAxes == movedAxes.sorted() {
            return reshaped(to: newShape)
        }

        let result = Tensor(uninitializedShape: newShape)
        PermutationKernel.copy(base, shape: shape, axes: normalized, into: result.base)
        guard Tensor.shouldRecord(self) else { return result }
        var inverse = [Int](repeating: 0, count: rank)
        for (position, axis) in normalized.enumerated() { inverse[axis] = position }
        return result.recorded("permute", [self]) { g in [g.permuted(inverse)] }
    }
}

/// Copies a tensor into the row-major order of a permutation of its axes.
enum PermutationKernel {
    /// Tile edge for strided copies, so that both the rows read and the rows written stay in
    /// the L1 cache (32 × 32 doubles are 8 KiB).
    static let tile = 32

    /// One axis of the permuted result: its size, and the distance between consecutive
    /// elements along it in the source and in the target.
    struct Axis {
        var size: Int
        var sourceStride: Int
        var targetStride: Int
    }

    /// Writes `source` (of shape `shape`) to `target` with axis `i` of the target being axis
    /// `axes[i]` of the source.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func copy<S: TensorScalar>(
        _ source: UnsafePointer<S>, shape: [Int], axes: [Int], into target: UnsafeMutablePointer<S>
    ) {
        let sourceStrides = ShapeRules.strides(shape)
        var count = 1
        for size in shape { count *= size }
        if count == 0 { return }

        // Drop axes of size 1 and merge neighbours that stay adjacent in the source, so a
        // rank-4 permutation that moves whole blocks becomes a rank-2 transpose.
        var merged: [Axis] = []
        for axis in axes where shape[axis] != 1 {
            let size = shape[axis]
            let stride = sourceStrides[axis]
            if let last = merged.last, last.sourceStride == stride * size {
                merged[merged.count - 1] = Axis(size: last.size * size, sourceStride: stride, targetStride: 0)
            } else {
                merged.append(Axis(size: size, sourceStride: stride, targetStride: 0))
            }
        }
        var step = 1
        for i in stride(from: merged.count - 1, through: 0, by: -1) {
            merged[i].targetStride = step
            step *= merged[i].size
        }
        if merged.count <= 1 {
            target.update(from: source, count: count)
            return
        }

        let last = merged.count - 1
        if merged[last].sourceStride == 1 {
            copyRuns(source, target, merged)
        } else {
            // Tile the innermost target axis against the source axis with the smallest stride
            // (stride 1 unless that axis had size 1), so both sides are read in short rows.
            var partner = 0
            for i in 0..<last where merged[i].sourceStride < merged[partner].sourceStride {
                partner = i
            }
            copyTiles(source, target, merged, partner: partner)
        }
    }

    /// Copies whole rows, for when the innermost axis is contiguous in both buffers.
    @inline(__always)
    private static func copyRuns<S: TensorScalar>(
        _ source: UnsafePointer<S>, _ target: UnsafeMutablePointer<S>, _ axes: [Axis]
    ) {
        let last = axes.count - 1
        let run = axes[last].size
        var rows = 1
        for i in 0..<last { rows *= axes[i].size }
        var index = [Int](repeating: 0, count: last)
        var offset = 0
        for row in 0..<rows {
            (target + row * run).update(from: source + offset, count: run)
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                offset += axes[d].sourceStride
                if index[d] < axes[d].size { break }
                offset -= axes[d].sourceStride * axes[d].size
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Copies `tile` × `tile` blocks of the plane spanned by the innermost axis and `partner`,
    /// for every position of the other axes.
    @inline(__always)
    private static func copyTiles<S: TensorScalar>(
        _ source: UnsafePointer<S>, _ target: UnsafeMutablePointer<S>, _ axes: [Axis], partner: Int
    ) {
        let last = axes.count - 1
        let columns = axes[last].size
        let columnStride = axes[last].sourceStride
        let rows = axes[partner].size
        let rowSourceStride = axes[partner].sourceStride
        let rowTargetStride = axes[partner].targetStride

        let outer = (0..<last).filter { $0 != partner }
        var planes = 1
        for i in outer { planes *= axes[i].size }
        var index = [Int](repeating: 0, count: outer.count)
        var sourceOffset = 0
        var targetOffset = 0

        for _ in 0..<planes {
            let from = source + sourceOffset
            let to = target + targetOffset
            var rowStart = 0
            while rowStart < rows {
                let rowEnd = Swift.min(rowStart + tile, rows)
                var columnStart = 0
                while columnStart < columns {
                    let columnEnd = Swift.min(columnStart + tile, columns)
                    for r in rowStart..<rowEnd {
                        let input = from + r * rowSourceStride
                        let output = to + r * rowTargetStride
                        for c in columnStart..<columnEnd {
                            output[c] = input[c * columnStride]
                        }
                    }
                    columnStart = columnEnd
                }
                rowStart = rowEnd
            }

            var k = outer.count - 1
            while k >= 0 {
                let axis = axes[outer[k]]
                index[k] += 1
                sourceOffset += axis.sourceStride
                targetOffset += axis.targetStride
                if index[k] < axis.size { break }
                sourceOffset -= axis.sourceStride * axis.size
                targetOffset -= axis.targetStride * axis.size
                index[k] = 0
                k -= 1
            }
        }
    }
}
