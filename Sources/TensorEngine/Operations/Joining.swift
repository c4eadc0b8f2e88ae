/// Concatenation, stacking, splitting, slicing and padding.
extension Tensor {
    /// Joins tensors end to end along `axis`. Every other dimension must agree.
    ///
    /// The pullback slices the cotangent back into one piece per input.
    ///
    /// - Precondition: `tensors` is not empty, all have one rank, `axis` is in `-rank..<rank`,
    ///   and the shapes agree outside `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func concatenated(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenated(_:alongAxis:): needs at least one tensor")
        let first = tensors[0]
        let resolved = ShapeRules.normalize(
            axis: axis, rank: first.rank, shape: first.shape, operation: "concatenated(_:alongAxis:)")
        var joinedSize = 0
        for (position, tensor) in tensors.enumerated() {
            precondition(
                tensor.rank == first.rank,
                "concatenated(_:alongAxis:): tensor \(position) has shape \(tensor.shape), rank \(tensor.rank), but tensor 0 has shape \(first.shape), rank \(first.rank)"
            )
            for d in 0..<first.rank where d != resolved {
                precondition(
                    tensor.shape[d] == first.shape[d],
                    "concatenated(_:alongAxis:): shapes \(first.shape) and \(tensor.shape) (tensors 0 and \(position)) differ in dimension \(d), outside the joined axis \(axis)"
                )
            }
            joinedSize += tensor.shape[resolved]
        }
        if tensors.count == 1 { return first }

        var shape = first.shape
        shape[resolved] = joinedSize
        let result = Tensor(uninitializedShape: shape)
        var outer = 1
        for d in 0..<resolved { outer *= shape[d] }
        let inner = result.scalarCount / Swift.max(1, outer * joinedSize)
        let rowLength = joinedSize * inner
        var column = 0
        for tensor in tensors {
            let piece = tensor.shape[resolved] * inner
            if piece > 0 {
                for o in 0..<outer {
                    (result.base + o * rowLength + column).update(from: tensor.base + o * piece, count: piece)
                }
            }
            column += piece
        }

        guard shouldRecord(tensors) else { return result }
        return result.recorded("concatenate", tensors) { g in
            var start = 0
            return tensors.map { tensor in
                let size = tensor.shape[resolved]
                defer { start += size }
                return tensor.requiresGradient ? g.slice(alongAxis: resolved, start..<(start + size)) : nil
            }
        }
    }

    /// Joins tensors of one shape along a new axis at position `axis`.
    ///
    /// - Precondition: `tensors` is not empty, all shapes are equal, and `axis` is in
    ///   `-(rank + 1)...rank`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func stacked(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stacked(_:alongAxis:): needs at least one tensor")
        let shape = tensors[0].shape
        for (position, tensor) in tensors.enumerated() {
            precondition(
                tensor.shape == shape,
                "stacked(_:alongAxis:): tensor \(position) has shape \(tensor.shape) but tensor 0 has shape \(shape)"
            )
        }
        let resolved = ShapeRules.normalize(
            axis: axis, rank: shape.count + 1, shape: shape, operation: "stacked(_:alongAxis:)")
        return concatenated(tensors.map { $0.expandingShape(at: resolved) }, alongAxis: resolved)
    }

    /// Cuts the tensor along `axis` into consecutive pieces of the given sizes.
    ///
    /// - Precondition: the sizes are non-negative and add up to the size of `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func split(sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "split(sizes:alongAxis:)")
        precondition(
            sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[resolved],
            "split(sizes:alongAxis:): sizes \(sizes) must be non-negative and add up to \(shape[resolved]), the size of axis \(axis) of shape \(shape)"
        )
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(alongAxis: resolved, start..<(start + size))
        }
    }

    /// Cuts the tensor along `axis` into `count` pieces of equal size.
    ///
    /// - Precondition: `count` is positive and divides the size of `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func split(count: Int, alongAxis axis: Int = 0) -> [Tensor] {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "split(count:alongAxis:)")
        precondition(
            count > 0 && shape[resolved] % count == 0,
            "split(count:alongAxis:): cannot split axis \(axis) of shape \(shape) (size \(shape[resolved])) into \(count) equal pieces"
        )
        return split(sizes: Array(repeating: shape[resolved] / count, count: count), alongAxis: resolved)
    }

    /// Returns the elements whose index along `axis` lies in `range`, keeping other axes whole.
    ///
    /// For example `x.slice(alongAxis: 1, 2..<5)` keeps columns 2, 3 and 4. The result is a
    /// copy. The pullback pads the cotangent with zeros back to this tensor's shape.
    ///
    /// - Precondition: `range` lies within `0...shape[axis]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "slice(alongAxis:_:)")
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[resolved],
            "slice(alongAxis:_:): range \(range) is out of bounds for axis \(axis) of shape \(shape) (size \(shape[resolved]))"
        )
        var start = [Int](repeating: 0, count: rank)
        var extent = shape
        start[resolved] = range.lowerBound
        extent[resolved] = range.count
        return cropped(start: start, extent: extent)
    }

    /// Adds `before` elements in front of and `after` elements behind `axis`, all equal to
    /// `value`.
    ///
    /// - Precondition: `before` and `after` are non-negative.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func padded(alongAxis axis: Int, before: Int, after: Int, value: Scalar = 0) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "padded(alongAxis:before:after:value:)")
        precondition(
            before >= 0 && after >= 0,
            "padded(alongAxis:before:after:value:): negative width (\(before), \(after)) on axis \(axis) of shape \(shape); use slice(alongAxis:_:) to remove elements"
        )
        var widths = [(before: Int, after: Int)](repeating: (0, 0), count: rank)
        widths[resolved] = (before, after)
        return padded(widths: widths, value: value)
    }

    /// Surrounds the values with `value`: `widths[i]` elements before and after along axis `i`.
    ///
    /// Convolutions use this with zeros on the spatial axes, e.g.
    /// `x.padded(widths: [(0, 0), (0, 0), (1, 1), (1, 1)])` for an NCHW batch. The pullback
    /// slices the cotangent back to this tensor's shape, whatever `value` is.
    ///
    /// - Precondition: one non-negative pair per axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func padded(widths: [(before: Int, after: Int)], value: Scalar = 0) -> Tensor {
        precondition(
            widths.count == rank,
            "padded(widths:value:): \(widths.count) width pairs for shape \(shape) of rank \(rank); give one (before, after) pair per axis"
        )
        var start = [Int](repeating: 0, count: rank)
        var newShape = shape
        for (axis, width) in widths.enumerated() {
            precondition(
                width.before >= 0 && width.after >= 0,
                "padded(widths:value:): negative width (\(width.before), \(width.after)) on axis \(axis) of shape \(shape); use slice(alongAxis:_:) to remove elements"
            )
            start[axis] = width.before
            newShape[axis] += width.before + width.after
        }
        if newShape == shape { return self }

        let result = Tensor(repeating: value, shape: newShape)
        RegionKernel.copy(
            from: base, shape: shape, start: [Int](repeating: 0, count: rank),
            to: result.base, shape: newShape, start: start, extent: shape)
        guard Tensor.shouldRecord(self) else { return result }
        let inputShape = shape
        return result.recorded("pad", [self]) { g in [g.cropped(start: start, extent: inputShape)] }
    }

    /// Returns the box of shape `extent` whose first corner is at index `start`, a multi-axis
    /// slice. Its pullback pads with zeros, and the pullback of padding is this crop.
    func cropped(start: [Int], extent: [Int]) -> Tensor {
        if extent == shape { return self }
        let result = Tensor(uninitializedShape: extent)
        RegionKernel.copy(
            from: base, shape: shape, start: start,
            to: result.base, shape: extent, start: [Int](repeating: 0, count: rank), extent: extent)
        guard Tensor.shouldRecord(self) else { return result }
        var widths = [(before: Int, after: Int)]()
        for axis in 0..<rank {
            widths.append((start[axis], shape[axis] - start[axis] - extent[axis]))
        }
        return result.recorded("slice", [self]) { g in [g.padded(widths: widths)] }
    }
}

/// Copies a box of values between two row-major buffers.
enum RegionKernel {
    /// Copies the box of shape `extent` starting at `sourceStart` in `source` to the box
    /// starting at `targetStart` in `target`. The boxes must lie within their buffers.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func copy<S: TensorScalar>(
        from source: UnsafePointer<S>, shape sourceShape: [Int], start sourceStart: [Int],
        to target: UnsafeMutablePointer<S>, shape targetShape: [Int], start targetStart: [Int],
        extent: [Int]
    ) {
        let rank = extent.count
        var count = 1
        for size in extent { count *= size }
        if count == 0 { return }
        if rank == 0 {
            target[0] = source[0]
            return
        }

        // Trailing axes that the box covers whole in both buffers join the contiguous run.
        var runAxis = rank - 1
        var run = extent[rank - 1]
        while runAxis > 0 && extent[runAxis] == sourceShape[runAxis] && extent[runAxis] == targetShape[runAxis] {
            runAxis -= 1
            run *= extent[runAxis]
        }

        let sourceStrides = ShapeRules.strides(sourceShape)
        let targetStrides = ShapeRules.strides(targetShape)
        var sourceOffset = 0
        var targetOffset = 0
        for d in 0..<rank {
            sourceOffset += sourceStart[d] * sourceStrides[d]
            targetOffset += targetStart[d] * targetStrides[d]
        }
        let runs = count / run
        var index = [Int](repeating: 0, count: runAxis)
        for _ in 0..<runs {
            (target + targetOffset).update(from: source + sourceOffset, count: run)
            var d = runAxis - 1
            while d >= 0 {
                index[d] += 1
                sourceOffset += sourceStrides[d]
                targetOffset += targetStrides[d]
                if index[d] < extent[d] { break }
                sourceOffset -= sourceStrides[d] * extent[d]
                targetOffset -= targetStrides[d] * extent[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}
