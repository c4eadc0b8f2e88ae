/// Average pooling over the last two (spatial) dimensions.
///
/// Both poolings are linear maps `y = A x` over windows described by `PoolingWindows`. The
/// pullback is the transpose `Aᵀ g`, itself recorded with `A` as its pullback, so second
/// derivatives follow.
extension Tensor {
    /// Averages each window of `kernelSize`×`kernelSize` values, moving by `stride`, as
    /// PyTorch's `avg_pool2d` with its defaults (`ceil_mode=False`, `count_include_pad=True`):
    /// windows that overlap the zero padding still divide by `kernelSize²`.
    ///
    /// - Parameters:
    ///   - kernelSize: Window height and width, at least 1.
    ///   - stride: Step between windows, at least 1.
    ///   - padding: Zeros added on every side, at most `kernelSize / 2`.
    /// - Returns: Shape [N, C, H', W'] (or [C, H', W']), with
    ///   `H' = (H + 2 · padding − kernelSize) / stride + 1`, rounded down.
    /// - Precondition: rank 3 or 4, and the window fits in the padded input.
    public func averagePooled2d(kernelSize: Int, stride: Int, padding: Int = 0) -> Tensor {
        precondition(
            rank == 3 || rank == 4,
            "averagePooled2d: input must have rank 4 [N, C, H, W] or 3 [C, H, W], got shape \(shape)")
        precondition(
            kernelSize >= 1 && stride >= 1,
            "averagePooled2d: kernelSize \(kernelSize) and stride \(stride) must be at least 1 (input \(shape))")
        precondition(
            padding >= 0 && padding <= kernelSize / 2,
            "averagePooled2d: padding \(padding) must be between 0 and half the kernel size \(kernelSize) (input \(shape))"
        )
        let height = shape[rank - 2]
        let width = shape[rank - 1]
        precondition(
            kernelSize <= height + 2 * padding && kernelSize <= width + 2 * padding,
            "averagePooled2d: kernel \(kernelSize)×\(kernelSize) is larger than the padded input \(height + 2 * padding)×\(width + 2 * padding) (input \(shape), padding \(padding))"
        )
        let rows = PoolingWindows.sliding(
            inputSize: height, kernelSize: kernelSize, stride: stride, padding: padding)
        let columns = PoolingWindows.sliding(
            inputSize: width, kernelSize: kernelSize, stride: stride, padding: padding)
        let windows = PoolingWindows(
            inputHeight: height, inputWidth: width, rows: rows.windows, columns: columns.windows,
            rowDivisors: rows.divisors, columnDivisors: columns.divisors)
        return Tensor.averagePool(self, windows)
    }

    /// Averages over `outputSize.0`×`outputSize.1` bins that tile the height and width, as
    /// PyTorch's `adaptive_avg_pool2d`: output row `i` covers input rows
    /// `floor(i · H / H') ..< ceil((i + 1) · H / H')`, and likewise for columns, so bins may
    /// overlap when the size does not divide evenly.
    ///
    /// `adaptiveAveragePooled2d(outputSize: (1, 1))` is global average pooling.
    ///
    /// - Returns: Shape [N, C, H', W'] (or [C, H', W']) with (H', W') = `outputSize`.
    /// - Precondition: rank 3 or 4, the spatial sizes are at least 1, and both output sizes are
    ///   at least 1.
    public func adaptiveAveragePooled2d(outputSize: (Int, Int)) -> Tensor {
        precondition(
            rank == 3 || rank == 4,
            "adaptiveAveragePooled2d: input must have rank 4 [N, C, H, W] or 3 [C, H, W], got shape \(shape)")
        precondition(
            outputSize.0 >= 1 && outputSize.1 >= 1,
            "adaptiveAveragePooled2d: output size \(outputSize) must be at least 1 in each dimension (input \(shape))")
        let height = shape[rank - 2]
        let width = shape[rank - 1]
        precondition(
            height >= 1 && width >= 1,
            "adaptiveAveragePooled2d: input \(shape) has an empty spatial dimension")
        let rows = PoolingWindows.adaptive(inputSize: height, outputSize: outputSize.0)
        let columns = PoolingWindows.adaptive(inputSize: width, outputSize: outputSize.1)
        let windows = PoolingWindows(
            inputHeight: height, inputWidth: width, rows: rows.windows, columns: columns.windows,
            rowDivisors: rows.divisors, columnDivisors: columns.divisors)
        return Tensor.averagePool(self, windows)
    }

    /// Averages the windows of every plane of `input`: the linear map `A` of both poolings.
    static func averagePool(_ input: Tensor, _ windows: PoolingWindows) -> Tensor {
        let leading = Array(input.shape.dropLast(2))
        let planes = leading.reduce(1, *)
        let result = Tensor(uninitializedShape: leading + [windows.outputHeight, windows.outputWidth])
        PoolingKernels.average(input.base, planes: planes, windows, into: result.base)
        guard shouldRecord(input) else { return result }
        return result.recorded("averagePool2d", [input]) { g in
            [averagePoolTranspose(g, windows)]
        }
    }

    /// Spreads the cotangent of a pooling back over its windows: the transpose `Aᵀ`.
    static func averagePoolTranspose(_ outputGradient: Tensor, _ windows: PoolingWindows) -> Tensor {
        let leading = Array(outputGradient.shape.dropLast(2))
        let planes = leading.reduce(1, *)
        let result = Tensor(uninitializedShape: leading + [windows.inputHeight, windows.inputWidth])
        PoolingKernels.averageTranspose(outputGradient.base, planes: planes, windows, into: result.base)
        guard shouldRecord(outputGradient) else { return result }
        return result.recorded("averagePool2d transpose", [outputGradient]) { h in
            [averagePool(h, windows)]
        }
    }
}
