/// Sizes of one 2-D convolution in NCHW layout, checked once and shared by the forward pass and
/// both gradients.
///
/// The filter has shape `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`,
/// as in PyTorch. Output sizes follow `(size + 2 · padding − kernel) / stride + 1`, rounded down.
struct ConvolutionGeometry: Hashable, Sendable {
    let batch: Int
    let inputChannels: Int
    let inputHeight: Int
    let inputWidth: Int
    let outputChannels: Int
    let kernelHeight: Int
    let kernelWidth: Int
    let strideHeight: Int
    let strideWidth: Int
    let paddingHeight: Int
    let paddingWidth: Int
    let groups: Int
    let outputHeight: Int
    let outputWidth: Int

    /// Checks the shapes and settings of `conv2d` and derives the output size, stopping with a
    /// message that names the shapes when they do not fit together.
    init(
        inputShape: [Int], filterShape: [Int], strides: (Int, Int), paddings: (Int, Int),
        groups: Int
    ) {
        precondition(
            inputShape.count == 4,
            "conv2d: input must have rank 4 [batch, channels, height, width], got shape \(inputShape)")
        precondition(
            filterShape.count == 4,
            "conv2d: filter must have rank 4 [outputChannels, inputChannels / groups, kernelHeight, kernelWidth], got shape \(filterShape)"
        )
        precondition(
            strides.0 >= 1 && strides.1 >= 1,
            "conv2d: strides must be at least 1, got \(strides) for input \(inputShape)")
        precondition(
            paddings.0 >= 0 && paddings.1 >= 0,
            "conv2d: paddings must be non-negative, got \(paddings) for input \(inputShape)")
        precondition(groups >= 1, "conv2d: groups must be at least 1, got \(groups)")
        let channels = inputShape[1]
        let filters = filterShape[0]
        precondition(
            channels % groups == 0,
            "conv2d: input channels \(channels) of input \(inputShape) are not divisible by groups \(groups)")
        precondition(
            filters % groups == 0,
            "conv2d: output channels \(filters) of filter \(filterShape) are not divisible by groups \(groups)")
        precondition(
            filterShape[1] * groups == channels,
            "conv2d: filter \(filterShape) with \(groups) group(s) expects \(filterShape[1] * groups) input channels, but input \(inputShape) has \(channels)"
        )
        precondition(
            filterShape.allSatisfy { $0 >= 1 },
            "conv2d: filter \(filterShape) has an empty dimension")
        let paddedHeight = inputShape[2] + 2 * paddings.0
        let paddedWidth = inputShape[3] + 2 * paddings.1
        precondition(
            filterShape[2] <= paddedHeight && filterShape[3] <= paddedWidth,
            "conv2d: kernel \(filterShape[2])×\(filterShape[3]) of filter \(filterShape) is larger than the padded input \(paddedHeight)×\(paddedWidth) (input \(inputShape), paddings \(paddings))"
        )
        batch = inputShape[0]
        inputChannels = channels
        inputHeight = inputShape[2]
        inputWidth = inputShape[3]
        outputChannels = filters
        kernelHeight = filterShape[2]
        kernelWidth = filterShape[3]
        strideHeight = strides.0
        strideWidth = strides.1
        paddingHeight = paddings.0
        paddingWidth = paddings.1
        self.groups = groups
        outputHeight = (paddedHeight - kernelHeight) / strideHeight + 1
        outputWidth = (paddedWidth - kernelWidth) / strideWidth + 1
    }

    var inputShape: [Int] { [batch, inputChannels, inputHeight, inputWidth] }
    var filterShape: [Int] { [outputChannels, inputChannels / groups, kernelHeight, kernelWidth] }
    var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }

    var inputPixels: Int { inputHeight * inputWidth }
    var outputPixels: Int { outputHeight * outputWidth }
    var outputChannelsPerGroup: Int { outputChannels / groups }
    /// Rows of the column matrix that belong to one group: `inputChannels / groups · kh · kw`.
    var patchSize: Int { inputChannels / groups * kernelHeight * kernelWidth }
    /// Rows of the whole column matrix: `inputChannels · kh · kw`.
    var columnRows: Int { inputChannels * kernelHeight * kernelWidth }

    /// True for a 1×1 kernel with stride 1 and no padding, whose column matrix is the input.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && paddingHeight == 0 && paddingWidth == 0
    }
}

/// The im2col and col2im kernels and the gemm calls of 2-D convolution.
///
/// The batch is processed in chunks of `count` images. A chunk's input is first copied into an
/// interleaved, zero-padded layout [C, H + 2·ph, W + 2·pw, count], with the image index
/// innermost. Its column matrix then has `columnRows` rows, one per (input channel, kernel row,
/// kernel column), and `outputPixels · count` columns ordered (output row, output column,
/// image). With stride 1, each output row within a column-matrix row is then one contiguous
/// copy of `outputWidth · count` values. The products come out in [channel, pixel, image]
/// layout and are transposed back to NCHW. The rows of group `g` form one contiguous block, so
/// each group is one gemm over the whole chunk. Pointwise convolutions (1×1, stride 1, no
/// padding) skip the interleaving: their column matrix is the chunk itself in
/// [C, count, pixels] layout, copied in runs of whole image planes.
///
/// Both choices matter for small images. With 64 channels and 6×6 outputs, one product over
/// 20 or more images ran at about twice the speed of 128 per-image products (OpenBLAS 0.3.21).
/// Copying output rows of 6 values one image at a time took half as long as the gemm it fed.
enum ConvolutionKernels {
    /// Upper bound, in values, on the column matrix of a chunk of several images: about 2 MB of
    /// `Float`, so the matrix can stay in a core's L2 cache between im2col and the gemm that
    /// reads it. A chunk of one image may exceed it, because images are never split.
    static let columnBudget = 1 << 19

    /// Splits the batch into chunks of equal size whose column matrices fit `columnBudget`.
    static func chunks(_ geometry: ConvolutionGeometry) -> [Range<Int>] {
        let perImage = Swift.max(1, geometry.columnRows * geometry.outputPixels)
        let total = geometry.batch * perImage
        let chunkCount = Swift.max(1, (total + columnBudget - 1) / columnBudget)
        let size = Swift.max(1, (geometry.batch + chunkCount - 1) / chunkCount)
        return stride(from: 0, to: geometry.batch, by: size).map {
            $0..<Swift.min(geometry.batch, $0 + size)
        }
    }

    /// Returns true when a pointwise convolution should multiply each image directly, without
    /// copying the input into a column matrix. Below 256 pixels per image, one batched product
    /// over a copied input is faster than a product per image.
    static func usesDirectPointwise(_ geometry: ConvolutionGeometry) -> Bool {
        geometry.isPointwise && geometry.inputPixels >= 256
    }

    // MARK: - Layout changes

    /// Copies images `images` of `input` (NCHW) into `interleaved`, laid out
    /// [C, H + 2·ph, W + 2·pw, count] with a border of zeros.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func interleave<S: TensorScalar>(
        _ input: UnsafePointer<S>, images: Range<Int>, _ g: ConvolutionGeometry,
        into interleaved: UnsafeMutablePointer<S>
    ) {
        let count = images.count
        let paddedWidth = g.inputWidth + 2 * g.paddingWidth
        let paddedHeight = g.inputHeight + 2 * g.paddingHeight
        if g.paddingHeight + g.paddingWidth > 0 {
            interleaved.update(repeating: 0, count: g.inputChannels * paddedHeight * paddedWidth * count)
        }
        // The image index is innermost, so stores are sequential and each load of a row's
        // values comes from one of `count` cache lines in use at a time.
        let imageStride = g.inputChannels * g.inputPixels
        let first = input + images.lowerBound * imageStride
        for channel in 0..<g.inputChannels {
            let plane = first + channel * g.inputPixels
            let paddedPlane = interleaved + channel * paddedHeight * paddedWidth * count
            for y in 0..<g.inputHeight {
                var target = paddedPlane + ((y + g.paddingHeight) * paddedWidth + g.paddingWidth) * count
                for x in 0..<g.inputWidth {
                    var source = plane + y * g.inputWidth + x
                    for _ in 0..<count {
                        target.pointee = source.pointee
                        target += 1
                        source += imageStride
                    }
                }
            }
        }
    }

    /// Copies the interior of `interleaved` ([C, H + 2·ph, W + 2·pw, count]) into images
    /// `images` of `output` (NCHW), dropping the border, which contains gradients of padding zeros.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func deinterleave<S: TensorScalar>(
        _ interleaved: UnsafePointer<S>, images: Range<Int>, _ g: ConvolutionGeometry,
        into output: UnsafeMutablePointer<S>
    ) {
        let count = images.count
        let paddedWidth = g.inputWidth + 2 * g.paddingWidth
        let paddedHeight = g.inputHeight + 2 * g.paddingHeight
        let firstInterior = (g.paddingHeight * paddedWidth + g.paddingWidth) * count
        for (position, image) in images.enumerated() {
            var values = output + image * g.inputChannels * g.inputPixels
            for channel in 0..<g.inputChannels {
                var row = interleaved + channel * paddedHeight * paddedWidth * count + firstInterior + position
                for _ in 0..<g.inputHeight {
                    var source = row
                    for _ in 0..<g.inputWidth {
                        values.pointee = source.pointee
                        source += count
                        values += 1
                    }
                    row += paddedWidth * count
                }
            }
        }
    }

    /// Copies images `images` of a [batch, channels, pixels] tensor into a
    /// [channels, pixels, images.count] buffer.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func gatherPixelMajor<S: TensorScalar>(
        _ source: UnsafePointer<S>, images: Range<Int>, channels: Int, pixels: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        let count = images.count
        for (position, image) in images.enumerated() {
            var from = source + image * channels * pixels
            for channel in 0..<channels {
                var to = target + channel * pixels * count + position
                for _ in 0..<pixels {
                    to.pointee = from.pointee
                    to += count
                    from += 1
                }
            }
        }
    }

    /// Copies a [channels, pixels, images.count] buffer into images `images` of a
    /// [batch, channels, pixels] tensor: the inverse of `gatherPixelMajor`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func scatterPixelMajor<S: TensorScalar>(
        _ source: UnsafePointer<S>, images: Range<Int>, channels: Int, pixels: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        let count = images.count
        for (position, image) in images.enumerated() {
            var to = target + image * channels * pixels
            for channel in 0..<channels {
                var from = source + channel * pixels * count + position
                for _ in 0..<pixels {
                    to.pointee = from.pointee
                    from += count
                    to += 1
                }
            }
        }
    }

    /// Copies images `images` of a [batch, channels, pixels] tensor into a
    /// [channels, images.count, pixels] buffer, in runs of `pixels` values.
    ///
    /// Batched pointwise convolutions use this layout, in which the column matrix is this copy
    /// of the input.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func gatherChannelMajor<S: TensorScalar>(
        _ source: UnsafePointer<S>, images: Range<Int>, channels: Int, pixels: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        for channel in 0..<channels {
            for (position, image) in images.enumerated() {
                let from = source + (image * channels + channel) * pixels
                let to = target + (channel * images.count + position) * pixels
                to.update(from: from, count: pixels)
            }
        }
    }

    /// Copies a [channels, images.count, pixels] buffer into images `images` of a
    /// [batch, channels, pixels] tensor: the inverse of `gatherChannelMajor`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func scatterChannelMajor<S: TensorScalar>(
        _ source: UnsafePointer<S>, images: Range<Int>, channels: Int, pixels: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        for channel in 0..<channels {
            for (position, image) in images.enumerated() {
                let from = source + (channel * images.count + position) * pixels
                let to = target + (image * channels + channel) * pixels
                to.update(from: from, count: pixels)
            }
        }
    }

    // MARK: - im2col and col2im

    /// Writes the column matrix of `count` interleaved images (see `interleave`) into
    /// `columns`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func im2col<S: TensorScalar>(
        _ interleaved: UnsafePointer<S>, count: Int, _ g: ConvolutionGeometry,
        into columns: UnsafeMutablePointer<S>
    ) {
        let paddedWidth = g.inputWidth + 2 * g.paddingWidth
        let paddedHeight = g.inputHeight + 2 * g.paddingHeight
        let rowLength = g.outputPixels * count
        let run = g.outputWidth * count
        for channel in 0..<g.inputChannels {
            let plane = interleaved + channel * paddedHeight * paddedWidth * count
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let rowIndex = (channel * g.kernelHeight + ki) * g.kernelWidth + kj
                    let row = columns + rowIndex * rowLength
                    for oy in 0..<g.outputHeight {
                        let source = plane + ((oy * g.strideHeight + ki) * paddedWidth + kj) * count
                        let target = row + oy * run
                        if g.strideWidth == 1 {
                            target.update(from: source, count: run)
                        } else {
                            for ox in 0..<g.outputWidth {
                                (target + ox * count).update(
                                    from: source + ox * g.strideWidth * count, count: count)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the column matrix of `count` images onto their window positions in `interleaved`:
    /// the adjoint of `im2col`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func col2im<S: TensorScalar>(
        _ columns: UnsafePointer<S>, count: Int, _ g: ConvolutionGeometry,
        addingInto interleaved: UnsafeMutablePointer<S>
    ) {
        let paddedWidth = g.inputWidth + 2 * g.paddingWidth
        let paddedHeight = g.inputHeight + 2 * g.paddingHeight
        let rowLength = g.outputPixels * count
        let run = g.outputWidth * count
        for channel in 0..<g.inputChannels {
            let plane = interleaved + channel * paddedHeight * paddedWidth * count
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let rowIndex = (channel * g.kernelHeight + ki) * g.kernelWidth + kj
                    let row = columns + rowIndex * rowLength
                    for oy in 0..<g.outputHeight {
                        let target = plane + ((oy * g.strideHeight + ki) * paddedWidth + kj) * count
                        let values = row + oy * run
                        if g.strideWidth == 1 {
                            for t in 0..<run { target[t] += values[t] }
                        } else {
                            for ox in 0..<g.outputWidth {
                                let to = target + ox * g.strideWidth * count
                                let from = values + ox * count
                                for n in 0..<count { to[n] += from[n] }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Convolution and its two gradients

    /// Scratch buffers for one chunk of images.
    struct Workspace<S> {
        /// The column matrix, [columnRows, outputPixels · count].
        let columns: UnsafeMutablePointer<S>
        /// An output-shaped chunk with columns in the order of the column matrix:
        /// [outputChannels, outputPixels, count], or [outputChannels, count, outputPixels] for
        /// pointwise convolutions.
        let product: UnsafeMutablePointer<S>
        /// The interleaved, padded images of the chunk, or the gradient with respect to them.
        let interleaved: UnsafeMutablePointer<S>
    }

    /// Calls `body` with scratch buffers large enough for chunks of `largest` images.
    static func withWorkspace<S: TensorScalar, R>(
        _ g: ConvolutionGeometry, largest: Int, _ body: (Workspace<S>) -> R
    ) -> R {
        let pixels = g.outputPixels
        let paddedPlane = (g.inputHeight + 2 * g.paddingHeight) * (g.inputWidth + 2 * g.paddingWidth)
        return ScratchMemory.withBuffer(of: S.self, count: g.columnRows * largest * pixels) { columns in
            ScratchMemory.withBuffer(of: S.self, count: g.outputChannels * largest * pixels) { product in
                ScratchMemory.withBuffer(of: S.self, count: g.isPointwise ? 0 : g.inputChannels * paddedPlane * largest) { interleaved in
                    body(Workspace(columns: columns, product: product, interleaved: interleaved))
                }
            }
        }
    }

    /// Writes the column matrix of images `images` of `input` into the workspace.
    @inline(__always)
    static func im2col<S: TensorScalar>(
        _ input: UnsafePointer<S>, images: Range<Int>, _ g: ConvolutionGeometry,
        _ workspace: Workspace<S>
    ) {
        if g.isPointwise {
            // Columns ordered (image, pixel): the copy runs over whole image planes.
            gatherChannelMajor(
                input, images: images, channels: g.inputChannels, pixels: g.inputPixels,
                into: workspace.columns)
            return
        }
        let source: UnsafePointer<S>
        if images.count == 1 && g.paddingHeight + g.paddingWidth == 0 {
            // One unpadded image is already in the interleaved layout.
            source = input + images.lowerBound * g.inputChannels * g.inputPixels
        } else {
            interleave(input, images: images, g, into: workspace.interleaved)
            source = UnsafePointer(workspace.interleaved)
        }
        im2col(source, count: images.count, g, into: workspace.columns)
    }

    /// Points at the output cotangent of images `images` with its columns in the order of the
    /// column matrix, copying it into the workspace unless the chunk is one image.
    @inline(__always)
    static func reorderedCotangent<S: TensorScalar>(
        _ outputGradient: UnsafePointer<S>, images: Range<Int>, _ g: ConvolutionGeometry,
        _ workspace: Workspace<S>
    ) -> UnsafePointer<S> {
        if images.count == 1 {
            return outputGradient + images.lowerBound * g.outputChannels * g.outputPixels
        }
        if g.isPointwise {
            gatherChannelMajor(
                outputGradient, images: images, channels: g.outputChannels, pixels: g.outputPixels,
                into: workspace.product)
        } else {
            gatherPixelMajor(
                outputGradient, images: images, channels: g.outputChannels, pixels: g.outputPixels,
                into: workspace.product)
        }
        return UnsafePointer(workspace.product)
    }

    /// Copies a product with its columns in the order of the column matrix into images
    /// `images` of an NCHW tensor with `channels` channels.
    @inline(__always)
    static func scatterProduct<S: TensorScalar>(
        _ product: UnsafePointer<S>, images: Range<Int>, channels: Int, _ g: ConvolutionGeometry,
        into target: UnsafeMutablePointer<S>
    ) {
        if g.isPointwise {
            scatterChannelMajor(
                product, images: images, channels: channels, pixels: g.outputPixels, into: target)
        } else {
            scatterPixelMajor(
                product, images: images, channels: channels, pixels: g.outputPixels, into: target)
        }
    }

    /// Writes the convolution of `input` with `filter` into `output`, all NCHW: through oneDNN
    /// for `Float` when `ConvolutionBackend.current` selects it and oneDNN implements the
    /// geometry, through im2col otherwise.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forward<S: TensorScalar>(
        input: UnsafePointer<S>, filter: UnsafePointer<S>, output: UnsafeMutablePointer<S>,
        _ g: ConvolutionGeometry
    ) {
        if S.self == Float.self
            && OneDNNConvolution.forward(
                input: UnsafeRawPointer(input), filter: UnsafeRawPointer(filter),
                output: UnsafeMutableRawPointer(output), g)
        {
            return
        }
        im2colForward(input: input, filter: filter, output: output, g)
    }

    /// Writes the gradients of the convolution with respect to its input and its filter, given
    /// the output cotangent `outputGradient`. A `nil` target skips that gradient. Each gradient
    /// goes through oneDNN or im2col as `forward` does.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backward<S: TensorScalar>(
        input: UnsafePointer<S>?, filter: UnsafePointer<S>?, outputGradient: UnsafePointer<S>,
        inputGradient: UnsafeMutablePointer<S>?, filterGradient: UnsafeMutablePointer<S>?,
        _ g: ConvolutionGeometry
    ) {
        var inputGradient = inputGradient
        var filterGradient = filterGradient
        if S.self == Float.self {
            let computed = OneDNNConvolution.backward(
                input: input.map { UnsafeRawPointer($0) }, filter: filter.map { UnsafeRawPointer($0) },
                outputGradient: UnsafeRawPointer(outputGradient),
                inputGradient: inputGradient.map { UnsafeMutableRawPointer($0) },
                filterGradient: filterGradient.map { UnsafeMutableRawPointer($0) }, g)
            if computed.inputGradient { inputGradient = nil }
            if computed.filterGradient { filterGradient = nil }
            if inputGradient == nil && filterGradient == nil { return }
        }
        im2colBackward(
            input: input, filter: filter, outputGradient: outputGradient,
            inputGradient: inputGradient, filterGradient: filterGradient, g)
    }

    /// Writes the convolution of `input` with `filter` into `output`, all NCHW, with im2col and
    /// gemm.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func im2colForward<S: TensorScalar>(
        input: UnsafePointer<S>, filter: UnsafePointer<S>, output: UnsafeMutablePointer<S>,
        _ g: ConvolutionGeometry
    ) {
        let groupOutputs = g.outputChannelsPerGroup
        let patch = g.patchSize
        let pixels = g.outputPixels
        if usesDirectPointwise(g) {
            // The input of each image is already its column matrix.
            for image in 0..<g.batch {
                for group in 0..<g.groups {
                    S.gemm(
                        transposeA: false, transposeB: false, m: groupOutputs, n: pixels, k: patch,
                        alpha: 1, a: filter + group * groupOutputs * patch, lda: patch,
                        b: input + (image * g.inputChannels + group * patch) * pixels, ldb: pixels,
                        beta: 0,
                        c: output + (image * g.outputChannels + group * groupOutputs) * pixels,
                        ldc: pixels)
                }
            }
            return
        }
        let chunks = chunks(g)
        withWorkspace(g, largest: chunks.map(\.count).max() ?? 0) { (workspace: Workspace<S>) in
            for images in chunks {
                let width = images.count * pixels
                im2col(input, images: images, g, workspace)
                // With one image, [outputChannels, pixels] is already the NCHW layout.
                let target = images.count == 1
                    ? output + images.lowerBound * g.outputChannels * pixels : workspace.product
                for group in 0..<g.groups {
                    S.gemm(
                        transposeA: false, transposeB: false, m: groupOutputs, n: width, k: patch,
                        alpha: 1, a: filter + group * groupOutputs * patch, lda: patch,
                        b: workspace.columns + group * patch * width, ldb: width, beta: 0,
                        c: target + group * groupOutputs * width, ldc: width)
                }
                if images.count > 1 {
                    scatterProduct(
                        workspace.product, images: images, channels: g.outputChannels, g, into: output)
                }
            }
        }
    }

    /// Writes the gradients of the convolution with respect to its input and its filter, given
    /// the output cotangent `outputGradient`, with im2col, col2im and gemm. A `nil` target skips
    /// that gradient.
    ///
    /// The input gradient is a transposed convolution of the cotangent with the filter, and the
    /// filter gradient correlates the input with the cotangent. Computing both in one pass
    /// copies the cotangent into the product layout once.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func im2colBackward<S: TensorScalar>(
        input: UnsafePointer<S>?, filter: UnsafePointer<S>?, outputGradient: UnsafePointer<S>,
        inputGradient: UnsafeMutablePointer<S>?, filterGradient: UnsafeMutablePointer<S>?,
        _ g: ConvolutionGeometry
    ) {
        let groupOutputs = g.outputChannelsPerGroup
        let patch = g.patchSize
        let pixels = g.outputPixels
        if let filterGradient, g.batch == 0 {
            filterGradient.update(repeating: 0, count: g.outputChannels * patch)
        }
        if usesDirectPointwise(g) {
            for image in 0..<g.batch {
                for group in 0..<g.groups {
                    let cotangent = outputGradient + (image * g.outputChannels + group * groupOutputs) * pixels
                    if let inputGradient, let filter {
                        S.gemm(
                            transposeA: true, transposeB: false, m: patch, n: pixels, k: groupOutputs,
                            alpha: 1, a: filter + group * groupOutputs * patch, lda: patch,
                            b: cotangent, ldb: pixels, beta: 0,
                            c: inputGradient + (image * g.inputChannels + group * patch) * pixels,
                            ldc: pixels)
                    }
                    if let filterGradient, let input {
                        S.gemm(
                            transposeA: false, transposeB: true, m: groupOutputs, n: patch, k: pixels,
                            alpha: 1, a: cotangent, lda: pixels,
                            b: input + (image * g.inputChannels + group * patch) * pixels, ldb: pixels,
                            beta: image == 0 ? 0 : 1,
                            c: filterGradient + group * groupOutputs * patch, ldc: patch)
                    }
                }
            }
            return
        }
        let chunks = chunks(g)
        let paddedPlane = (g.inputHeight + 2 * g.paddingHeight) * (g.inputWidth + 2 * g.paddingWidth)
        withWorkspace(g, largest: chunks.map(\.count).max() ?? 0) { (workspace: Workspace<S>) in
            for (index, images) in chunks.enumerated() {
                let width = images.count * pixels
                let cotangent = reorderedCotangent(outputGradient, images: images, g, workspace)
                if let filterGradient, let input {
                    im2col(input, images: images, g, workspace)
                    for group in 0..<g.groups {
                        S.gemm(
                            transposeA: false, transposeB: true, m: groupOutputs, n: patch, k: width,
                            alpha: 1, a: cotangent + group * groupOutputs * width, lda: width,
                            b: workspace.columns + group * patch * width, ldb: width,
                            beta: index == 0 ? 0 : 1,
                            c: filterGradient + group * groupOutputs * patch, ldc: patch)
                    }
                }
                if let inputGradient, let filter {
                    for group in 0..<g.groups {
                        S.gemm(
                            transposeA: true, transposeB: false, m: patch, n: width, k: groupOutputs,
                            alpha: 1, a: filter + group * groupOutputs * patch, lda: patch,
                            b: cotangent + group * groupOutputs * width, ldb: width, beta: 0,
                            c: workspace.columns + group * patch * width, ldc: width)
                    }
                    if g.isPointwise {
                        // The column gradient is the input gradient, with columns reordered.
                        scatterProduct(
                            workspace.columns, images: images, channels: g.inputChannels, g,
                            into: inputGradient)
                        continue
                    }
                    // Sum the column gradients onto the interleaved, padded images, then copy the
                    // interior out in NCHW layout.
                    let interleaved = workspace.interleaved
                    interleaved.update(repeating: 0, count: images.count * g.inputChannels * paddedPlane)
                    col2im(workspace.columns, count: images.count, g, addingInto: interleaved)
                    deinterleave(interleaved, images: images, g, into: inputGradient)
                }
            }
        }
    }
}
