/// Matrix products with batch dimensions, on BLAS gemm.
extension Tensor {
    /// Matrix product of the last two dimensions, broadcasting the leading (batch) dimensions.
    ///
    /// With `transposeA`, the last two dimensions of `a` are read transposed (likewise `b`),
    /// without copying; the pullbacks use this.
    ///
    /// - Precondition: both ranks are at least 2 and the inner sizes agree.
    /// - Complexity: O(batch · m · n · k) through `gemm`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        precondition(
            a.rank >= 2 && b.rank >= 2,
            "matmul: both operands need rank 2 or more, got shapes \(a.shape) and \(b.shape); reshape vectors to [1, n] or [n, 1]"
        )
        let aRows = a.shape[a.rank - 2]
        let aColumns = a.shape[a.rank - 1]
        let bRows = b.shape[b.rank - 2]
        let bColumns = b.shape[b.rank - 1]
        let m = transposeA ? aColumns : aRows
        let k = transposeA ? aRows : aColumns
        let kB = transposeB ? bColumns : bRows
        let n = transposeB ? bRows : bColumns
        precondition(
            k == kB,
            "matmul: inner sizes differ, \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(kB))"
        )
        let result: Tensor
        if a.rank == 2 && b.rank == 2 {
            // No batch dimensions: skip the batch bookkeeping, which costs more than an 8×8
            // product.
            result = Tensor(uninitializedShape: [m, n])
            multiply(a, b, transposeA, transposeB, m: m, n: n, k: k, batch: [], into: result)
        } else {
            let batchA = Array(a.shape.dropLast(2))
            let batchB = Array(b.shape.dropLast(2))
            let batch = ShapeRules.broadcast(batchA, batchB, operation: "matmul")
            result = Tensor(uninitializedShape: batch + [m, n])
            multiply(a, b, transposeA, transposeB, m: m, n: n, k: k, batch: batch, into: result)
        }

        guard shouldRecord(a, b) else { return result }
        return result.recorded("matmul", [a, b]) { g in
            var gradA: Tensor?
            var gradB: Tensor?
            if a.requiresGradient {
                gradA = transposeA
                    ? matmul(b, g, transposeA: transposeB, transposeB: true)
                    : matmul(g, b, transposeA: false, transposeB: !transposeB)
                gradA = gradA!.summed(toShape: a.shape)
            }
            if b.requiresGradient {
                gradB = transposeB
                    ? matmul(g, a, transposeA: true, transposeB: transposeA)
                    : matmul(a, g, transposeA: !transposeA, transposeB: false)
                gradB = gradB!.summed(toShape: b.shape)
            }
            return [gradA, gradB]
        }
    }

    private static func multiply(
        _ a: Tensor, _ b: Tensor, _ transposeA: Bool, _ transposeB: Bool,
        m: Int, n: Int, k: Int, batch: [Int], into result: Tensor
    ) {
        let lda = a.shape[a.rank - 1]
        let ldb = b.shape[b.rank - 1]
        let batchCount = batch.reduce(1, *)
        if m == 0 || n == 0 { return }
        if k == 0 {
            result.base.update(repeating: 0, count: result.scalarCount)
            return
        }
        if batch.isEmpty {
            Scalar.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: 1, a: a.base, lda: lda, b: b.base, ldb: ldb, beta: 0,
                c: result.base, ldc: n)
            return
        }
        // A batch of `a` against one matrix `b` is a single product with the batch folded into m.
        if b.rank == 2 && !transposeA && a.rank > 2 {
            Scalar.gemm(
                transposeA: false, transposeB: transposeB, m: m * batchCount, n: n, k: k,
                alpha: 1, a: a.base, lda: lda, b: b.base, ldb: ldb, beta: 0,
                c: result.base, ldc: n)
            return
        }
        let strideA = ShapeRules.broadcastStrides(Array(a.shape.dropLast(2)), to: batch)
        let strideB = ShapeRules.broadcastStrides(Array(b.shape.dropLast(2)), to: batch)
        let matrixA = a.shape[a.rank - 2] * lda
        let matrixB = b.shape[b.rank - 2] * ldb
        var index = [Int](repeating: 0, count: batch.count)
        for item in 0..<batchCount {
            var offsetA = 0
            var offsetB = 0
            for d in 0..<batch.count {
                offsetA += index[d] * strideA[d]
                offsetB += index[d] * strideB[d]
            }
            Scalar.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: 1, a: a.base + offsetA * matrixA, lda: lda,
                b: b.base + offsetB * matrixB, ldb: ldb, beta: 0,
                c: result.base + item * m * n, ldc: n)
            var d = batch.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < batch[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }
}

extension Tensor {
    /// Returns `input · weightᵀ + bias`, as PyTorch's `torch.nn.functional.linear`, followed by
    /// `activation` when it is not nil.
    ///
    /// `input` has shape `[rows, inputSize]`, `weight` `[outputSize, inputSize]` and `bias`
    /// `[outputSize]`; without a bias the result is the product alone.
    ///
    /// When nothing is recorded, the bias and the activation are applied in place to the fresh
    /// product in one pass per block of rows, while the block is still in cache. Large layers
    /// run as two halves of the rows on two threads (`FusedLinear`). When recording, the result
    /// is `matmul`, `+` and the activation's own operation, so gradients of every order come
    /// from those.
    ///
    /// - Precondition: `input` and `weight` have rank 2 with equal last sizes, and `bias` has
    ///   shape `[weight.shape[0]]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linear(
        _ input: Tensor, weight: Tensor, bias: Tensor?, activation: ElementaryFunction? = nil
    ) -> Tensor {
        precondition(
            input.rank == 2 && weight.rank == 2,
            "linear: input and weight need rank 2, got shapes \(input.shape) and \(weight.shape)")
        let outputSize = weight.shape[0]
        if let bias {
            precondition(
                bias.rank == 1 && bias.shape[0] == outputSize,
                "linear: the bias must have shape [\(outputSize)] for weight \(weight.shape), got \(bias.shape)")
        }
        if shouldRecord(input, weight) || (bias.map { shouldRecord($0) } ?? false) {
            let product = matmul(input, weight, transposeB: true)
            let affine = bias.map { product + $0 } ?? product
            return activation.map { affine.applying($0) } ?? affine
        }
        precondition(
            input.shape[1] == weight.shape[1],
            "linear: inner sizes differ, \(input.shape) × \(weight.shape)ᵀ (\(input.shape[1]) vs \(weight.shape[1]))")
        let result = Tensor(uninitializedShape: [input.shape[0], outputSize])
        FusedLinear.run(
            input: input.base, weight: weight.base, bias: bias?.base, activation: activation,
            output: result.base, rows: input.shape[0], inputSize: weight.shape[1],
            outputSize: outputSize)
        return result
    }

    /// Applies linear layers one after another: the output of layer `i` is
    /// `activation_i(x · weight_iᵀ + bias_i)` with `x` the output of layer `i - 1`, the first
    /// layer reading `input` (`[rows, in]`). `layer(i)` gives the parameters of layer `i` for
    /// `i` in `0..<count`; it is called once per layer, in order. With `count` 0 the result is
    /// `input` itself.
    ///
    /// The values are those of `count` calls of ``linear(_:weight:bias:activation:)``, and while
    /// recording that is what runs. Without recording, a chain with enough work splits the rows
    /// over two threads once, and each thread runs every layer on its rows, where layer by layer
    /// would fork and join once per layer. The layers between the first and the last then
    /// write to two scratch buffers per thread in turn, so memory does not grow with the number
    /// of layers. A split chain keeps about one layer's output more in memory than layer by
    /// layer. A split result can differ from the layer-by-layer one in the last bits, because a
    /// product's rounding may depend on the number of rows in a call.
    ///
    /// - Precondition: `input` has rank 2, `count` is not negative, and every layer's weight has
    ///   shape `[out, in]` with `in` the previous layer's `out` and its bias shape `[out]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linearLayers(
        _ input: Tensor, count: Int, layer: (Int) -> LinearLayerParameters<Scalar>
    ) -> Tensor {
        precondition(input.rank == 2, "linearLayers: the input needs rank 2, got shape \(input.shape)")
        precondition(count >= 0, "linearLayers: the layer count must not be negative, got \(count)")
        let rows = input.shape[0]
        if rows < FusedLinear.minimumSplitRows || count < 2 {
            // Too few rows to split: no array of layers.
            var output = input
            for index in 0..<count {
                let parameters = layer(index)
                checkLayer(parameters, index: index, inputWidth: output.shape[1])
                output = linear(
                    output, weight: parameters.weight, bias: parameters.bias, activation: parameters.activation)
            }
            return output
        }

        // Ask for every layer once, check it, and decide whether the rows split.
        let layers = (0..<count).map(layer)
        var width = input.shape[1]
        var work = 0
        var splits = !shouldRecord(input)
        for (index, parameters) in layers.enumerated() {
            checkLayer(parameters, index: index, inputWidth: width)
            let outputSize = parameters.weight.shape[0]
            splits =
                splits && !shouldRecord(parameters.weight)
                && !(parameters.bias.map { shouldRecord($0) } ?? false) && outputSize > 0
                && FusedLinear.isBlocked(inputSize: width, outputSize: outputSize)
            work += rows * outputSize * (width + 1)
            width = outputSize
        }

        guard splits && FusedLinear.splitsRows(rows, work: work) else {
            var output = input
            for parameters in layers {
                output = linear(
                    output, weight: parameters.weight, bias: parameters.bias, activation: parameters.activation)
            }
            return output
        }

        // The operands' input and output name the chain's ends; runSplitChain points each
        // layer at its half's rows and scratch buffers.
        let output = Tensor(uninitializedShape: [rows, width])
        let scratchWidth = layers.dropLast().map { $0.weight.shape[0] }.max() ?? 0
        let scratch = Tensor(uninitializedShape: [2 * rows * scratchWidth])
        let chain = layers.map { parameters in
            LinearOperands(
                input: UnsafePointer(input.base), weight: parameters.weight.base, bias: parameters.bias?.base,
                activation: parameters.activation, output: output.base,
                inputSize: parameters.weight.shape[1], outputSize: parameters.weight.shape[0])
        }
        withExtendedLifetime((input, layers, scratch)) {
            FusedLinear.runSplitChain(
                chain, rows: rows, input: input.base, output: output.base, scratch: scratch.base,
                scratchWidth: scratchWidth)
        }
        return output
    }

    /// Stops the program with a message naming layer `index` of `linearLayers` when its weight
    /// does not take inputs of width `inputWidth` or its bias does not fit the weight.
    @inline(__always)
    private static func checkLayer(_ parameters: LinearLayerParameters<Scalar>, index: Int, inputWidth: Int) {
        let (weight, bias) = (parameters.weight, parameters.bias)
        precondition(
            weight.rank == 2 && weight.shape[1] == inputWidth,
            "linearLayers: layer \(index) has weight \(weight.shape), which does not take inputs of "
                + "width \(inputWidth); its shape must be [out, \(inputWidth)]")
        if let bias {
            precondition(
                bias.rank == 1 && bias.shape[0] == weight.shape[0],
                "linearLayers: layer \(index) needs a bias of shape [\(weight.shape[0])], got \(bias.shape)")
        }
    }

    /// The elementary function `function` as the tensor operation that records it: `tanh()` for
    /// `.tanh`, and so on.
    public func applying(_ function: ElementaryFunction) -> Tensor {
        switch function {
        case .exp: exp()
        case .log: log()
        case .tanh: tanh()
        case .sigmoid: sigmoid()
        case .softplus: softplus()
        case .sin: sin()
        case .cos: cos()
        case .sqrt: sqrt()
        }
    }
}

/// Matrix product of the last two dimensions; see `Tensor.matmul`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func matmul<Scalar>(
    _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false, transposeB: Bool = false
) -> Tensor<Scalar> {
    Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
}

/// The parameters of one layer of ``Tensor/linearLayers(_:count:layer:)``.
public struct LinearLayerParameters<Scalar: TensorScalar> {
    /// The weight, `[out, in]` as in `torch.nn.Linear`.
    public var weight: Tensor<Scalar>
    /// The bias `[out]`, or `nil`.
    public var bias: Tensor<Scalar>?
    /// The function applied to every output value after the bias, or `nil`.
    public var activation: ElementaryFunction?

    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?, activation: ElementaryFunction?) {
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }
}
