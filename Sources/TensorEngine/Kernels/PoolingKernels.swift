/// The windows of a 2-D average pooling: for each output row and column, the input rows and
/// columns it averages, and the divisor.
///
/// Windows are stored already clipped to the input. The divisor of output (i, j) is
/// `rowDivisors[i] · columnDivisors[j]`, which counts padding positions for `averagePooled2d`
/// (PyTorch's `count_include_pad=True`) and only input positions for adaptive pooling.
struct PoolingWindows: Sendable {
    let inputHeight: Int
    let inputWidth: Int
    let rows: [Range<Int>]
    let columns: [Range<Int>]
    let rowDivisors: [Int]
    let columnDivisors: [Int]

    var outputHeight: Int { rows.count }
    var outputWidth: Int { columns.count }

    /// Windows of `kernelSize` positions every `stride` positions over an input padded by
    /// `padding` on both sides; the divisor is the whole window, padding included.
    static func sliding(inputSize: Int, kernelSize: Int, stride: Int, padding: Int) -> (
        windows: [Range<Int>], divisors: [Int]
    ) {
        let outputSize = (inputSize + 2 * padding - kernelSize) / stride + 1
        var windows: [Range<Int>] = []
        for index in 0..<outputSize {
            let start = index * stride - padding
            let end = start + kernelSize
            windows.append(Swift.max(0, start)..<Swift.min(inputSize, end))
        }
        return (windows, [Int](repeating: kernelSize, count: outputSize))
    }

    /// PyTorch's adaptive bins: output `i` of `outputSize` averages input positions
    /// `floor(i · inputSize / outputSize) ..< ceil((i + 1) · inputSize / outputSize)`.
    static func adaptive(inputSize: Int, outputSize: Int) -> (
        windows: [Range<Int>], divisors: [Int]
    ) {
        var windows: [Range<Int>] = []
        for index in 0..<outputSize {
            let start = index * inputSize / outputSize
            let end = ((index + 1) * inputSize + outputSize - 1) / outputSize
            windows.append(start..<end)
        }
        return (windows, windows.map(\.count))
    }
}

/// Average pooling over the last two dimensions of a tensor viewed as `[planes, H, W]`, and
/// its transpose.
enum PoolingKernels {
    /// Writes the window averages of each plane of `input` into `output`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func average<S: TensorScalar>(
        _ input: UnsafePointer<S>, planes: Int, _ windows: PoolingWindows,
        into output: UnsafeMutablePointer<S>
    ) {
        let inputPlane = windows.inputHeight * windows.inputWidth
        let outputPlane = windows.outputHeight * windows.outputWidth
        let width = windows.inputWidth
        for plane in 0..<planes {
            let source = input + plane * inputPlane
            let target = output + plane * outputPlane
            for (i, rowRange) in windows.rows.enumerated() {
                for (j, columnRange) in windows.columns.enumerated() {
                    var total: S = 0
                    for r in rowRange {
                        let row = source + r * width
                        for c in columnRange { total += row[c] }
                    }
                    let divisor = windows.rowDivisors[i] * windows.columnDivisors[j]
                    target[i * windows.outputWidth + j] = total / S(divisor)
                }
            }
        }
    }

    /// Spreads each output cotangent evenly over its window: the transpose of `average`.
    /// Writes every value of `inputGradient`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func averageTranspose<S: TensorScalar>(
        _ outputGradient: UnsafePointer<S>, planes: Int, _ windows: PoolingWindows,
        into inputGradient: UnsafeMutablePointer<S>
    ) {
        let inputPlane = windows.inputHeight * windows.inputWidth
        let outputPlane = windows.outputHeight * windows.outputWidth
        let width = windows.inputWidth
        inputGradient.update(repeating: 0, count: planes * inputPlane)
        for plane in 0..<planes {
            let source = outputGradient + plane * outputPlane
            let target = inputGradient + plane * inputPlane
            for (i, rowRange) in windows.rows.enumerated() {
                for (j, columnRange) in windows.columns.enumerated() {
                    let divisor = windows.rowDivisors[i] * windows.columnDivisors[j]
                    let share = source[i * windows.outputWidth + j] / S(divisor)
                    for r in rowRange {
                        let row = target + r * width
                        for c in columnRange { row[c] += share }
                    }
                }
            }
        }
    }
}
