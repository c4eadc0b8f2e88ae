/// Selecting, gathering and scatter-adding by integer indices.
extension Tensor {
    /// Returns the slice at `index` along `axis`, with that axis removed. A negative index
    /// counts from the end, so `x.selecting(index: -1)` is the last row.
    ///
    /// - Precondition: `index` is in `-size..<size` for the size of `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func selecting(index: Int, alongAxis axis: Int = 0) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "selecting(index:alongAxis:)")
        let size = shape[resolved]
        let position = index < 0 ? index + size : index
        precondition(
            position >= 0 && position < size,
            "selecting(index:alongAxis:): index \(index) is out of range for axis \(axis) of shape \(shape) (size \(size))"
        )
        var newShape = shape
        newShape.remove(at: resolved)
        return slice(alongAxis: resolved, position..<(position + 1)).reshaped(to: newShape)
    }

    /// Returns the slices at `indices` along `axis`, in that order, as `torch.index_select`
    /// does. Indices may repeat.
    ///
    /// The result has this shape with the size of `axis` replaced by `indices.count`. The
    /// pullback is `scatterAdded(indices:alongAxis:size:)`, so the gradient of a slice picked
    /// twice is the sum of both cotangents.
    ///
    /// - Precondition: every index is in `0..<shape[axis]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gather(indices: [Int], alongAxis axis: Int = 0) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "gather(indices:alongAxis:)")
        let size = shape[resolved]
        for (position, index) in indices.enumerated() {
            precondition(
                index >= 0 && index < size,
                "gather(indices:alongAxis:): index \(index) at position \(position) is out of range 0..<\(size) for axis \(axis) of shape \(shape)"
            )
        }
        var newShape = shape
        newShape[resolved] = indices.count
        let result = Tensor(uninitializedShape: newShape)
        let (outer, inner) = IndexKernel.outerAndInner(shape, axis: resolved)
        indices.withUnsafeBufferPointer { indexBuffer in
            IndexKernel.select(
                base, outer: outer, size: size, inner: inner, indices: indexBuffer, into: result.base)
        }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("gather", [self]) { g in
            [g.scatterAdded(indices: indices, alongAxis: resolved, size: size)]
        }
    }

    /// Adds slice `j` along `axis` into slice `indices[j]` of a zero tensor whose `axis` has
    /// size `size`: the adjoint of `gather(indices:alongAxis:)`, like `torch.index_add` into
    /// zeros. Slices with the same index are summed.
    ///
    /// - Precondition: `indices.count` equals the size of `axis`, and every index is in
    ///   `0..<size`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func scatterAdded(indices: [Int], alongAxis axis: Int = 0, size: Int) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "scatterAdded(indices:alongAxis:size:)")
        precondition(
            indices.count == shape[resolved],
            "scatterAdded(indices:alongAxis:size:): \(indices.count) indices for axis \(axis) of shape \(shape) (size \(shape[resolved])); give one index per slice"
        )
        for (position, index) in indices.enumerated() {
            precondition(
                index >= 0 && index < size,
                "scatterAdded(indices:alongAxis:size:): index \(index) at position \(position) is out of range 0..<\(size) (shape \(shape), axis \(axis))"
            )
        }
        var newShape = shape
        newShape[resolved] = size
        let result = Tensor(zeros: newShape)
        let (outer, inner) = IndexKernel.outerAndInner(shape, axis: resolved)
        indices.withUnsafeBufferPointer { indexBuffer in
            IndexKernel.addSlices(
                base, outer: outer, size: size, inner: inner, indices: indexBuffer, into: result.base)
        }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("scatter add", [self]) { g in
            [g.gather(indices: indices, alongAxis: resolved)]
        }
    }

    /// Picks one element along `axis` per position of `indices`, as `torch.gather` does: for
    /// `axis` 1 of a rank-3 tensor, `result[i, j, k] = self[i, indices[i, j, k], k]`.
    ///
    /// The result has the shape of `indices`. The pullback scatter-adds the cotangent back with
    /// `scatterAdded(indices:alongAxis:shape:)`.
    ///
    /// - Precondition: `indices` has this tensor's rank, is no larger than this shape on every
    ///   axis but `axis`, and contains values in `0..<shape[axis]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gather(indices: IndexTensor, alongAxis axis: Int) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "gather(indices:alongAxis:)")
        IndexKernel.validateElementIndices(
            indices, axis: resolved, shape: shape, operation: "gather(indices:alongAxis:)")
        let result = Tensor(uninitializedShape: indices.shape)
        indices.indices.withUnsafeBufferPointer { indexBuffer in
            IndexKernel.selectElements(
                base, shape: shape, indices: indexBuffer, indexShape: indices.shape, axis: resolved,
                into: result.base)
        }
        guard Tensor.shouldRecord(self) else { return result }
        let inputShape = shape
        return result.recorded("gather elements", [self]) { g in
            [g.scatterAdded(indices: indices, alongAxis: resolved, shape: inputShape)]
        }
    }

    /// Adds each element into a zero tensor of shape `shape` at the position given by
    /// `indices` along `axis`, as `torch.scatter_add` into zeros does: for `axis` 1 of a rank-3
    /// tensor, `result[i, indices[i, j, k], k] += self[i, j, k]`. The adjoint of
    /// `gather(indices:alongAxis:)` with an `IndexTensor`.
    ///
    /// - Precondition: `indices` has this tensor's shape, `shape` has this rank and is no
    ///   smaller than this shape on every axis but `axis`, and the indices are in
    ///   `0..<shape[axis]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func scatterAdded(indices: IndexTensor, alongAxis axis: Int, shape resultShape: [Int]) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "scatterAdded(indices:alongAxis:shape:)")
        precondition(
            indices.shape == shape,
            "scatterAdded(indices:alongAxis:shape:): index shape \(indices.shape) differs from the shape of the values, \(shape)"
        )
        IndexKernel.validateElementIndices(
            indices, axis: resolved, shape: resultShape, operation: "scatterAdded(indices:alongAxis:shape:)")
        let result = Tensor(zeros: resultShape)
        indices.indices.withUnsafeBufferPointer { indexBuffer in
            IndexKernel.addElements(
                base, indices: indexBuffer, indexShape: shape, axis: resolved,
                into: result.base, shape: resultShape)
        }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("scatter add elements", [self]) { g in
            [g.gather(indices: indices, alongAxis: resolved)]
        }
    }
}

/// Integer indices arranged in a shape, for the element-wise `gather(indices:alongAxis:)` and
/// `scatterAdded(indices:alongAxis:shape:)`.
public struct IndexTensor: Sendable, Equatable {
    /// Sizes of the dimensions, outermost first.
    public let shape: [Int]
    /// The indices in row-major order.
    public let indices: [Int]

    /// Creates indices of the given shape from values in row-major order.
    ///
    /// - Precondition: `indices.count` equals the product of `shape`.
    public init(shape: [Int], indices: [Int]) {
        let count = shape.reduce(1, *)
        precondition(
            shape.allSatisfy { $0 >= 0 } && indices.count == count,
            "IndexTensor(shape:indices:): shape \(shape) needs \(count) indices, got \(indices.count)")
        self.shape = shape
        self.indices = indices
    }
}

/// Loops behind gathering and scatter-adding.
enum IndexKernel {
    /// Returns the number of elements before and after `axis` in row-major order.
    static func outerAndInner(_ shape: [Int], axis: Int) -> (outer: Int, inner: Int) {
        var outer = 1
        for d in 0..<axis { outer *= shape[d] }
        var inner = 1
        for d in (axis + 1)..<shape.count { inner *= shape[d] }
        return (outer, inner)
    }

    /// Copies slices `indices[j]` of a `[outer, size, inner]` buffer to slot `j` of an
    /// `[outer, indices.count, inner]` buffer.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func select<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int,
        indices: UnsafeBufferPointer<Int>, into target: UnsafeMutablePointer<S>
    ) {
        let count = indices.count
        for o in 0..<outer {
            let from = source + o * size * inner
            let to = target + o * count * inner
            if inner == 1 {
                for j in 0..<count { to[j] = from[indices[j]] }
            } else {
                for j in 0..<count {
                    (to + j * inner).update(from: from + indices[j] * inner, count: inner)
                }
            }
        }
    }

    /// Adds slot `j` of an `[outer, indices.count, inner]` buffer into slice `indices[j]` of an
    /// `[outer, size, inner]` buffer.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func addSlices<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int,
        indices: UnsafeBufferPointer<Int>, into target: UnsafeMutablePointer<S>
    ) {
        let count = indices.count
        for o in 0..<outer {
            let from = source + o * count * inner
            let to = target + o * size * inner
            for j in 0..<count {
                let row = from + j * inner
                let destination = to + indices[j] * inner
                for i in 0..<inner { destination[i] += row[i] }
            }
        }
    }

    /// Checks that `indices` fits a tensor of shape `shape` for an element-wise gather or
    /// scatter along `axis`.
    static func validateElementIndices(
        _ indices: IndexTensor, axis: Int, shape: [Int], operation: StaticString
    ) {
        precondition(
            indices.shape.count == shape.count,
            "\(operation): index shape \(indices.shape) has rank \(indices.shape.count) but the tensor shape \(shape) has rank \(shape.count)"
        )
        for d in 0..<shape.count where d != axis {
            precondition(
                indices.shape[d] <= shape[d],
                "\(operation): index shape \(indices.shape) exceeds tensor shape \(shape) in dimension \(d), outside axis \(axis)"
            )
        }
        let size = shape[axis]
        for (position, index) in indices.indices.enumerated() {
            precondition(
                index >= 0 && index < size,
                "\(operation): index \(index) at position \(position) is out of range 0..<\(size) for axis \(axis) of shape \(shape)"
            )
        }
    }

    /// Sets `target[p] = source[p with its axis coordinate replaced by indices[p]]` for every
    /// position `p` of the index shape.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func selectElements<S: TensorScalar>(
        _ source: UnsafePointer<S>, shape: [Int], indices: UnsafeBufferPointer<Int>,
        indexShape: [Int], axis: Int, into target: UnsafeMutablePointer<S>
    ) {
        forEachElement(indexShape: indexShape, tensorShape: shape, axis: axis) { position, offset, axisStride in
            target[position] = source[offset + indices[position] * axisStride]
        }
    }

    /// Adds `source[p]` to `target[p with its axis coordinate replaced by indices[p]]` for every
    /// position `p` of the index shape.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func addElements<S: TensorScalar>(
        _ source: UnsafePointer<S>, indices: UnsafeBufferPointer<Int>, indexShape: [Int], axis: Int,
        into target: UnsafeMutablePointer<S>, shape: [Int]
    ) {
        forEachElement(indexShape: indexShape, tensorShape: shape, axis: axis) { position, offset, axisStride in
            target[offset + indices[position] * axisStride] += source[position]
        }
    }

    /// Calls `body(position, offset, axisStride)` for each position of the index shape in
    /// row-major order, where `offset` is the tensor offset of that position's coordinates
    /// with the `axis` coordinate set to 0.
    @inline(__always)
    private static func forEachElement(
        indexShape: [Int], tensorShape: [Int], axis: Int, _ body: (Int, Int, Int) -> Void
    ) {
        let rank = indexShape.count
        let strides = ShapeRules.strides(tensorShape)
        var count = 1
        for size in indexShape { count *= size }
        if count == 0 { return }
        let last = rank - 1
        let columns = indexShape[last]
        let columnStride = axis == last ? 0 : strides[last]
        let axisStride = strides[axis]
        var index = [Int](repeating: 0, count: last)
        var offset = 0
        var position = 0
        for _ in 0..<(count / columns) {
            for c in 0..<columns {
                body(position + c, offset + c * columnStride, axisStride)
            }
            position += columns
            var d = last - 1
            while d >= 0 {
                let step = d == axis ? 0 : strides[d]
                index[d] += 1
                offset += step
                if index[d] < indexShape[d] { break }
                offset -= step * indexShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
