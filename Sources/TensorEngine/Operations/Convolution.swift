/// 2-D convolution (cross-correlation, as in PyTorch) in NCHW layout, and its two gradients.
///
/// Convolution is bilinear in its input and filter, and so are its gradients: the input
/// gradient is bilinear in (output cotangent, filter) and the filter gradient in
/// (input, output cotangent). Each of the three is a recorded operation whose pullback is made
/// of the other two, so gradients of gradients are exact to any order.
extension Tensor {
    /// Convolves `input` [N, C, H, W] with `filter` [O, C / groups, kh, kw].
    static func convolution(_ input: Tensor, _ filter: Tensor, _ geometry: ConvolutionGeometry) -> Tensor {
        let result = Tensor(uninitializedShape: geometry.outputShape)
        ConvolutionKernels.forward(
            input: input.base, filter: filter.base, output: result.base, geometry)
        guard shouldRecord(input, filter) else { return result }
        return result.recorded("conv2d", [input, filter]) { g in
            if !GradientMode.isEnabled && input.requiresGradient && filter.requiresGradient {
                // Nothing differentiates this backward pass, so one fused pass computes both.
                let inputGradient = Tensor(uninitializedShape: geometry.inputShape)
                let filterGradient = Tensor(uninitializedShape: geometry.filterShape)
                ConvolutionKernels.backward(
                    input: input.base, filter: filter.base, outputGradient: g.base,
                    inputGradient: inputGradient.base, filterGradient: filterGradient.base,
                    geometry)
                return [inputGradient, filterGradient]
            }
            return [
                input.requiresGradient ? convolutionInputGradient(g, filter, geometry) : nil,
                filter.requiresGradient ? convolutionFilterGradient(input, g, geometry) : nil,
            ]
        }
    }

    /// Computes the gradient of `convolution` with respect to its input, for output cotangent
    /// `outputGradient`: a transposed convolution with `filter`.
    static func convolutionInputGradient(
        _ outputGradient: Tensor, _ filter: Tensor, _ geometry: ConvolutionGeometry
    ) -> Tensor {
        let result = Tensor(uninitializedShape: geometry.inputShape)
        ConvolutionKernels.backward(
            input: nil, filter: filter.base, outputGradient: outputGradient.base,
            inputGradient: result.base, filterGradient: nil, geometry)
        guard shouldRecord(outputGradient, filter) else { return result }
        // <h, T(g, w)> = <conv(h, w), g> = <w, F(h, g)> for the cotangent h of the result.
        return result.recorded("conv2d input gradient", [outputGradient, filter]) { h in
            [
                outputGradient.requiresGradient ? convolution(h, filter, geometry) : nil,
                filter.requiresGradient ? convolutionFilterGradient(h, outputGradient, geometry) : nil,
            ]
        }
    }

    /// Computes the gradient of `convolution` with respect to its filter, for `input` and
    /// output cotangent `outputGradient`.
    static func convolutionFilterGradient(
        _ input: Tensor, _ outputGradient: Tensor, _ geometry: ConvolutionGeometry
    ) -> Tensor {
        let result = Tensor(uninitializedShape: geometry.filterShape)
        ConvolutionKernels.backward(
            input: input.base, filter: nil, outputGradient: outputGradient.base,
            inputGradient: nil, filterGradient: result.base, geometry)
        guard shouldRecord(input, outputGradient) else { return result }
        // <k, F(x, g)> = <conv(x, k), g> = <x, T(g, k)> for the cotangent k of the result.
        return result.recorded("conv2d filter gradient", [input, outputGradient]) { k in
            [
                input.requiresGradient ? convolutionInputGradient(outputGradient, k, geometry) : nil,
                outputGradient.requiresGradient ? convolution(input, k, geometry) : nil,
            ]
        }
    }
}

/// Convolves a batch of images with a bank of filters (cross-correlation, as PyTorch's
/// `conv2d`), without bias.
///
/// Output size along each axis: `(size + 2 · padding − kernel) / stride + 1`, rounded down.
/// With `groups` > 1, the channels split into that many groups, and output channel `o` reads
/// only the input channels of group `o / (O / groups)`.
///
/// `Float` convolutions and their gradients run on oneDNN, with its OpenMP threads
/// (`OMP_NUM_THREADS`). Setting the environment variable `NEURALODE_CONVOLUTION=im2col` selects
/// the im2col-and-gemm kernels on OpenBLAS instead, which `Double` convolutions always use.
///
/// - Parameters:
///   - input: Images of shape [N, C, H, W].
///   - filter: Filters of shape [O, C / groups, kh, kw].
///   - stride: Step between kernel positions along height and width, at least 1.
///   - padding: Zeros added on every side along height and width.
///   - groups: Number of channel groups; divides both C and O.
/// - Returns: Shape [N, O, H', W'].
/// - Precondition: both ranks are 4, the channel counts fit `groups`, and the kernel fits in
///   the padded input.
public func conv2d<Scalar>(
    _ input: Tensor<Scalar>, filter: Tensor<Scalar>, stride: Int = 1, padding: Int = 0,
    groups: Int = 1
) -> Tensor<Scalar> {
    conv2d(input, filter: filter, strides: (stride, stride), paddings: (padding, padding), groups: groups)
}

/// Convolves a batch of images with a bank of filters, with separate strides and paddings for
/// height and width; see `conv2d(_:filter:stride:padding:groups:)`.
///
/// - Parameters:
///   - strides: Steps along (height, width), each at least 1.
///   - paddings: Zeros added above and below, and left and right: (height, width).
public func conv2d<Scalar>(
    _ input: Tensor<Scalar>, filter: Tensor<Scalar>, strides: (Int, Int),
    paddings: (Int, Int) = (0, 0), groups: Int = 1
) -> Tensor<Scalar> {
    let geometry = ConvolutionGeometry(
        inputShape: input.shape, filterShape: filter.shape, strides: strides, paddings: paddings,
        groups: groups)
    return Tensor.convolution(input, filter, geometry)
}
