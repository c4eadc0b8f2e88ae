/// A linear layer's output computed without recording: `activation(input · weightᵀ + bias)`.
///
/// The rows are cut into blocks of about `blockValues` output values. Each block's product is
/// written by `gemm`, and its bias and activation are applied in one pass
/// (`TensorScalar.addOffsets`) while the block is still in the second-level cache. Layers with
/// at least `minimumSplitWork` multiply-adds plus output values run as two halves of the rows
/// on two threads. That is one fork and join per layer instead of one per product and one per
/// activation.
///
/// The halves are separate `gemm` calls with half the rows each, and oneDNN may round a row
/// of a product differently for another number of rows, so a split result can differ from the
/// separate operations in the last bits (about 1e-5 relative was seen for k = 255).
///
/// Weights larger than `maximumBlockedWeight` values skip the blocks: the whole product comes
/// from one `gemm` call, which splits large products itself, and the bias and activation
/// follow in one pass on the calling thread.
enum FusedLinear {
    /// Output values per block of rows: 256 KiB of `Float`. Smaller blocks cost more than they
    /// save, because each `dnnl_sgemm` call has a fixed cost of about a microsecond: with blocks
    /// of 4096 values a batch-4096 solve of the 2-64-64-2 MLP took 28 ms instead of 20 ms.
    static let blockValues = 1 << 16
    /// Multiply-adds plus output values from which the rows are split over two threads. A
    /// 64 × 64 layer at 64 rows (266 240) stays on one thread, and at 4096 rows it splits.
    static let minimumSplitWork = 1 << 20
    /// Weights with more values than this are not cut into row blocks, because each block's
    /// `gemm` call would pack the whole weight again.
    static let maximumBlockedWeight = 1 << 16

    @inline(__always)
    static func run<S: TensorScalar>(
        input: UnsafePointer<S>, weight: UnsafePointer<S>, bias: UnsafePointer<S>?,
        activation: ElementaryFunction?, output: UnsafeMutablePointer<S>,
        rows: Int, inputSize: Int, outputSize: Int
    ) {
        guard rows > 0 && outputSize > 0 else { return }
        let operands = LinearOperands(
            input: input, weight: weight, bias: bias, activation: activation, output: output,
            inputSize: inputSize, outputSize: outputSize)
        if !isBlocked(inputSize: inputSize, outputSize: outputSize) {
            operands.computeWhole(rows: rows)
            return
        }
        if !splitsRows(rows, work: rows * outputSize * (inputSize + 1)) {
            operands.compute(rows: 0..<rows)
            return
        }
        let split = splitRow(rows)
        TwoThreads.run { half in
            operands.compute(rows: half == 0 ? 0..<split : split..<rows)
        }
    }

    /// Returns whether `rows` rows with `work` multiply-adds plus output values are split over
    /// two threads.
    @inline(__always)
    static func splitsRows(_ rows: Int, work: Int) -> Bool {
        work >= minimumSplitWork && rows >= minimumSplitRows
    }

    /// Fewer rows than this always stay on one thread.
    static let minimumSplitRows = 16

    /// Returns whether a layer's product is computed per block of rows (see
    /// `maximumBlockedWeight`).
    @inline(__always)
    static func isBlocked(inputSize: Int, outputSize: Int) -> Bool {
        inputSize * outputSize <= maximumBlockedWeight
    }

    /// Runs layers one after another, each reading the previous layer's output, with the rows
    /// split over two threads once: each thread runs every layer on its half of the rows.
    ///
    /// Every row of a layer depends only on the same row of the layer before, so the halves
    /// need no join between layers. Splitting layer by layer would fork and join once per layer.
    /// The first layer reads `input` (`[rows, layers[0].inputSize]`) and the last one writes
    /// `output` (`[rows, layers.last.outputSize]`), whatever buffers `layers` name. The layers
    /// between write to two buffers of `rowsOfHalf × scratchWidth` values per half in turn,
    /// taken from `scratch` (`2 · rows · scratchWidth` values), so each thread only touches its
    /// own part. The caller checks `splitsRows` for the work of all layers together and that
    /// every layer `isBlocked`.
    static func runSplitChain<S: TensorScalar>(
        _ layers: [LinearOperands<S>], rows: Int, input: UnsafePointer<S>,
        output: UnsafeMutablePointer<S>, scratch: UnsafeMutablePointer<S>, scratchWidth: Int
    ) {
        let split = splitRow(rows)
        TwoThreads.run { half in
            let start = half == 0 ? 0 : split
            let count = half == 0 ? split : rows - split
            var source = input + start * layers[0].inputSize
            for (index, layer) in layers.enumerated() {
                let destination =
                    index == layers.count - 1
                    ? output + start * layer.outputSize
                    : scratch + (2 * start + (index % 2) * count) * scratchWidth
                layer.reading(source, writing: destination).compute(rows: 0..<count)
                source = UnsafePointer(destination)
            }
        }
    }

    /// Returns the first row of the second half: about half the rows, rounded to a multiple of 8.
    @inline(__always)
    private static func splitRow(_ rows: Int) -> Int {
        (rows / 2 + 7) & ~7
    }
}

/// The buffers of one layer of `FusedLinear`: one `run` call or one layer of a chain. Two
/// threads can compute two row ranges at once, because the ranges write disjoint rows of the
/// output.
struct LinearOperands<S: TensorScalar> {
    let input: UnsafePointer<S>
    let weight: UnsafePointer<S>
    let bias: UnsafePointer<S>?
    let activation: ElementaryFunction?
    let output: UnsafeMutablePointer<S>
    let inputSize: Int
    let outputSize: Int

    /// Returns the same layer with other input and output buffers.
    @inline(__always)
    func reading(_ input: UnsafePointer<S>, writing output: UnsafeMutablePointer<S>) -> LinearOperands {
        LinearOperands(
            input: input, weight: weight, bias: bias, activation: activation, output: output,
            inputSize: inputSize, outputSize: outputSize)
    }

    /// Computes the output rows `rows` block by block on the calling thread.
    @inline(__always)
    func compute(rows: Range<Int>) {
        let blockRows = max(1, FusedLinear.blockValues / outputSize)
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(blockRows, rows.upperBound - start)
            multiply(rows: start, count: count)
            finish(output + start * outputSize, rows: count)
            start += count
        }
    }

    /// Computes every row with one product, then the bias and activation in one pass.
    @inline(__always)
    func computeWhole(rows: Int) {
        multiply(rows: 0, count: rows)
        finish(output, rows: rows)
    }

    @inline(__always)
    private func multiply(rows start: Int, count: Int) {
        S.gemm(
            transposeA: false, transposeB: true, m: count, n: outputSize, k: inputSize,
            alpha: 1, a: input + start * inputSize, lda: inputSize, b: weight, ldb: inputSize,
            beta: 0, c: output + start * outputSize, ldc: outputSize)
    }

    /// Adds the bias and applies the activation to `rows` rows at `values`.
    @inline(__always)
    private func finish(_ values: UnsafeMutablePointer<S>, rows: Int) {
        if let bias {
            S.addOffsets(bias, thenApply: activation, to: values, rows: rows, columns: outputSize)
        } else if let activation {
            S.apply(activation, values, values, count: rows * outputSize)
        }
    }
}
