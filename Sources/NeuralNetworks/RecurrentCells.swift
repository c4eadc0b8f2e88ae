import TensorEngine

/// One step of a recurrent network: a new hidden state from an input and the previous state.
///
/// Inputs have shape `[batch, inputSize]` and hidden states `[batch, hiddenSize]`. A sequence
/// model calls the cell once per step; masking of finished sequences is the caller's job.
public protocol RecurrentCell<Scalar>: Module {
    /// Number of input features.
    var inputSize: Int { get }
    /// Number of hidden units.
    var hiddenSize: Int { get }
    /// Returns the next hidden state `[batch, hiddenSize]`.
    func callAsFunction(_ input: Tensor<Scalar>, _ hidden: Tensor<Scalar>) -> Tensor<Scalar>
}

extension RecurrentCell {
    /// Returns the zero state `[batchSize, hiddenSize]` that sequences start from.
    public func zeroState(batchSize: Int) -> Tensor<Scalar> {
        Tensor(zeros: [batchSize, hiddenSize])
    }
}

/// The Elman recurrent cell `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`, as PyTorch's
/// `nn.RNNCell` with its default `tanh` nonlinearity.
///
/// Parameters keep PyTorch's names and layouts: `weight_ih` `[hiddenSize, inputSize]`,
/// `weight_hh` `[hiddenSize, hiddenSize]`, `bias_ih` and `bias_hh` `[hiddenSize]`.
public final class RNNCell<Scalar: TensorScalar>: RecurrentCell {
    @Parameter public var inputWeight: Tensor<Scalar>
    @Parameter public var hiddenWeight: Tensor<Scalar>
    @Parameter public var inputBias: Tensor<Scalar>
    @Parameter public var hiddenBias: Tensor<Scalar>

    public var inputSize: Int { inputWeight.shape[1] }
    public var hiddenSize: Int { hiddenWeight.shape[0] }

    /// Creates a cell with PyTorch's initialisation: every weight and bias uniform on
    /// `[-1/sqrt(hiddenSize), 1/sqrt(hiddenSize))`.
    ///
    /// - Precondition: both sizes are positive.
    public init(inputSize: Int, hiddenSize: Int, generator: inout RandomGenerator) {
        precondition(
            inputSize > 0 && hiddenSize > 0,
            "RNNCell: sizes must be positive, got inputSize \(inputSize) and hiddenSize \(hiddenSize)")
        let bound = 1 / Double(hiddenSize).squareRoot()
        _inputWeight = Parameter(
            wrappedValue: Initialization.uniform(shape: [hiddenSize, inputSize], bound: bound, generator: &generator), name: "weight_ih")
        _hiddenWeight = Parameter(
            wrappedValue: Initialization.uniform(shape: [hiddenSize, hiddenSize], bound: bound, generator: &generator), name: "weight_hh")
        _inputBias = Parameter(
            wrappedValue: Initialization.uniform(shape: [hiddenSize], bound: bound, generator: &generator), name: "bias_ih")
        _hiddenBias = Parameter(
            wrappedValue: Initialization.uniform(shape: [hiddenSize], bound: bound, generator: &generator), name: "bias_hh")
    }

    /// - Precondition: `input` is `[batch, inputSize]` and `hidden` is `[batch, hiddenSize]`.
    public func callAsFunction(_ input: Tensor<Scalar>, _ hidden: Tensor<Scalar>) -> Tensor<Scalar> {
        checkShapes(cell: "RNNCell", input: input, hidden: hidden, inputSize: inputSize, hiddenSize: hiddenSize)
        let preactivation =
            matmul(input, inputWeight, transposeB: true) + matmul(hidden, hiddenWeight, transposeB: true)
        return (preactivation + (inputBias + hiddenBias)).tanh()
    }
}

/// The gated recurrent unit of Cho et al., "Learning Phrase Representations using RNN
/// Encoder–Decoder for Statistical Machine Translation" (EMNLP 2014), in the form of
/// PyTorch's `nn.GRUCell`:
///
/// ```
/// r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)
/// u = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
/// n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn))
/// h' = (1 − u) ⊙ n + u ⊙ h
/// ```
///
/// The gate weights are stacked as in PyTorch, in the order reset, update, new:
/// `weight_ih` `[3·hiddenSize, inputSize]`, `weight_hh` `[3·hiddenSize, hiddenSize]`, `bias_ih`
/// and `bias_hh` `[3·hiddenSize]`.
public final class GRUCell<Scalar: TensorScalar>: RecurrentCell {
    @Parameter public var inputWeight: Tensor<Scalar>
    @Parameter public var hiddenWeight: Tensor<Scalar>
    @Parameter public var inputBias: Tensor<Scalar>
    @Parameter public var hiddenBias: Tensor<Scalar>

    public var inputSize: Int { inputWeight.shape[1] }
    public var hiddenSize: Int { hiddenWeight.shape[1] }

    /// Creates a cell with PyTorch's initialisation: every weight and bias uniform on
    /// `[-1/sqrt(hiddenSize), 1/sqrt(hiddenSize))`.
    ///
    /// - Precondition: both sizes are positive.
    public init(inputSize: Int, hiddenSize: Int, generator: inout RandomGenerator) {
        precondition(
            inputSize > 0 && hiddenSize > 0,
            "GRUCell: sizes must be positive, got inputSize \(inputSize) and hiddenSize \(hiddenSize)")
        let bound = 1 / Double(hiddenSize).squareRoot()
        let gates = 3 * hiddenSize
        _inputWeight = Parameter(
            wrappedValue: Initialization.uniform(shape: [gates, inputSize], bound: bound, generator: &generator), name: "weight_ih")
        _hiddenWeight = Parameter(
            wrappedValue: Initialization.uniform(shape: [gates, hiddenSize], bound: bound, generator: &generator), name: "weight_hh")
        _inputBias = Parameter(
            wrappedValue: Initialization.uniform(shape: [gates], bound: bound, generator: &generator), name: "bias_ih")
        _hiddenBias = Parameter(
            wrappedValue: Initialization.uniform(shape: [gates], bound: bound, generator: &generator), name: "bias_hh")
    }

    /// - Precondition: `input` is `[batch, inputSize]` and `hidden` is `[batch, hiddenSize]`.
    public func callAsFunction(_ input: Tensor<Scalar>, _ hidden: Tensor<Scalar>) -> Tensor<Scalar> {
        checkShapes(cell: "GRUCell", input: input, hidden: hidden, inputSize: inputSize, hiddenSize: hiddenSize)
        let size = hiddenSize
        let fromInput = matmul(input, inputWeight, transposeB: true) + inputBias
        let fromHidden = matmul(hidden, hiddenWeight, transposeB: true) + hiddenBias

        // The reset and update gates share one sigmoid over the first 2·size columns.
        let gates = (fromInput.slice(alongAxis: 1, 0..<(2 * size))
            + fromHidden.slice(alongAxis: 1, 0..<(2 * size))).sigmoid()
        let reset = gates.slice(alongAxis: 1, 0..<size)
        let update = gates.slice(alongAxis: 1, size..<(2 * size))

        let candidate = (fromInput.slice(alongAxis: 1, (2 * size)..<(3 * size))
            + reset * fromHidden.slice(alongAxis: 1, (2 * size)..<(3 * size))).tanh()
        // (1 − u) n + u h, written as n + u (h − n) to save one operation.
        return candidate + update * (hidden - candidate)
    }
}

/// Stops with a message naming the cell and both shapes unless the input is
/// `[batch, inputSize]` and the hidden state `[batch, hiddenSize]`.
private func checkShapes<Scalar>(
    cell: String, input: Tensor<Scalar>, hidden: Tensor<Scalar>, inputSize: Int, hiddenSize: Int
) {
    precondition(
        input.rank == 2 && input.shape[1] == inputSize,
        "\(cell): input must have shape [batch, \(inputSize)], got \(input.shape)")
    precondition(
        hidden.rank == 2 && hidden.shape == [input.shape[0], hiddenSize],
        "\(cell): hidden state must have shape [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)"
    )
}
