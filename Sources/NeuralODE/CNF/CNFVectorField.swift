import NeuralNetworks
import TensorEngine

/// The dynamics `dz/dt = f(z, t)` of a continuous normalizing flow: a module that maps a batch
/// of points `z` of shape `[batch, d]` at time `t` to their velocities, row by row.
///
/// Rows must not interact: row `b` of `f` depends only on row `b` of `z`, because the
/// log-density of each point follows its own trace.
public protocol CNFVectorField<Scalar>: Module {
    /// The dimension `d` of the points.
    var dimension: Int { get }

    /// Returns `f(z, t)`, of the shape of `z`.
    func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar>

    /// Returns `f(z, t)` and `tr(∂f/∂z)` of shape `[batch, 1]` from a closed form, built from
    /// differentiable operations, or `nil` when the field has none. `TraceEstimator.closedForm`
    /// uses it.
    func valueAndTrace(_ t: Double, _ z: Tensor<Scalar>) -> (value: Tensor<Scalar>, trace: Tensor<Scalar>)?

    /// Returns `f(z, t)` with the parameters treated as constants, so that only the dependence
    /// on `z` is recorded. Forward solves use it, so that the trace's vector-Jacobian products
    /// skip parameter gradients that would be discarded. The default calls `callAsFunction`.
    func valueWithConstantParameters(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar>
}

extension CNFVectorField {
    public func valueAndTrace(_ t: Double, _ z: Tensor<Scalar>) -> (value: Tensor<Scalar>, trace: Tensor<Scalar>)? {
        nil
    }

    public func valueWithConstantParameters(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        self(t, z)
    }
}

/// The planar continuous normalizing flow of Chen et al., "Neural Ordinary Differential
/// Equations" (NeurIPS 2018, Section 4): `M` planar units whose parameters are functions of
/// time,
///
/// ```
/// f(z, t) = (1/M) Σₙ (uₙ(t) ⊙ σ(gₙ(t))) tanh(wₙ(t)ᵀ z + bₙ(t))
/// ```
///
/// The trace is `(1/M) Σₙ (1 - tanh²(wₙᵀz + bₙ)) (uₙ ⊙ σ(gₙ))ᵀ wₙ`, so its cost is linear in
/// `M`, which is the reason Chen et al. give for this form.
///
/// A hypernetwork of `t` produces `(w, u, g, b)`: `1 → hidden → hidden → 3Md + M`, with tanh
/// after the first two layers. The gate `σ(gₙ)` lies in (0, 1) and has one value per unit and
/// output coordinate, and the sum is divided by `M`. Layout, sizes and gate follow the
/// reference example `examples/cnf.py` of torchdiffeq (defaults there: hidden 32, width 64).
public final class PlanarCNFField<Scalar: TensorScalar>: CNFVectorField {
    public let dimension: Int
    /// The number of planar units `M`.
    public let width: Int
    public let hidden1: Linear<Scalar>
    public let hidden2: Linear<Scalar>
    public let output: Linear<Scalar>

    /// Creates the field with PyTorch's default initialisation of the hypernetwork's layers.
    ///
    /// - Precondition: `dimension`, `width` and `hiddenSize` are positive.
    public init(dimension: Int, width: Int, hiddenSize: Int, generator: inout RandomGenerator) {
        precondition(
            dimension > 0 && width > 0 && hiddenSize > 0,
            "PlanarCNFField: dimension, width and hiddenSize must be positive, got \(dimension), \(width), \(hiddenSize)")
        self.dimension = dimension
        self.width = width
        hidden1 = Linear(inputSize: 1, outputSize: hiddenSize, generator: &generator)
        hidden2 = Linear(inputSize: hiddenSize, outputSize: hiddenSize, generator: &generator)
        output = Linear(inputSize: hiddenSize, outputSize: 3 * width * dimension + width, generator: &generator)
    }

    /// Returns the unit parameters at time `t`: `w` `[M, d]`, the gated `u ⊙ σ(g)` `[M, d]`
    /// and `b` `[M]`.
    public func unitParameters(at t: Double) -> (w: Tensor<Scalar>, u: Tensor<Scalar>, b: Tensor<Scalar>) {
        let time = Tensor<Scalar>(shape: [1, 1], scalars: [Scalar(t)])
        let values = output(hidden2(hidden1(time, activation: .tanh), activation: .tanh)).reshaped(to: [-1])
        let block = width * dimension
        let w = values.slice(alongAxis: 0, 0..<block).reshaped(to: [width, dimension])
        let u = values.slice(alongAxis: 0, block..<(2 * block)).reshaped(to: [width, dimension])
        let gate = values.slice(alongAxis: 0, (2 * block)..<(3 * block)).reshaped(to: [width, dimension])
        let b = values.slice(alongAxis: 0, (3 * block)..<(3 * block + width))
        return (w, u * gate.sigmoid(), b)
    }

    public func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        checkInput(z)
        let (w, u, b) = unitParameters(at: t)
        return apply(z, w: w, u: u, b: b)
    }

    public func valueWithConstantParameters(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        checkInput(z)
        let (w, u, b) = withoutGradients { unitParameters(at: t) }
        return apply(z, w: w, u: u, b: b)
    }

    private func apply(_ z: Tensor<Scalar>, w: Tensor<Scalar>, u: Tensor<Scalar>, b: Tensor<Scalar>) -> Tensor<Scalar> {
        let activations = Tensor.linear(z, weight: w, bias: b, activation: .tanh)
        return matmul(activations, u) * (1 / Scalar(width))
    }

    public func valueAndTrace(_ t: Double, _ z: Tensor<Scalar>) -> (value: Tensor<Scalar>, trace: Tensor<Scalar>)? {
        checkInput(z)
        let (w, u, b) = unitParameters(at: t)
        let activations = Tensor.linear(z, weight: w, bias: b, activation: .tanh)
        let scale = 1 / Scalar(width)
        let value = matmul(activations, u) * scale
        // tr ∂f/∂z = (1/M) Σₙ (1 - hₙ²) uₙᵀwₙ, a [batch, M] × [M, 1] product.
        let unitTraces = (u * w).sum(alongAxis: 1, keepingDimensions: true)
        let trace = matmul(1 - activations.squared(), unitTraces) * scale
        return (value, trace)
    }

    private func checkInput(_ z: Tensor<Scalar>) {
        precondition(
            z.rank == 2 && z.shape[1] == dimension,
            "PlanarCNFField: z must have shape [batch, \(dimension)], got \(z.shape)")
    }
}

/// A multilayer perceptron with time as an extra input to every layer: each layer maps
/// `[h, t]` to the next hidden vector, with tanh between layers and none after the last.
///
/// The general dynamics of a continuous normalizing flow: every entry of `f` may depend on
/// every entry of `z`, so the trace needs `TraceEstimator.exact` or `.hutchinson`.
public final class TimeConditionedMLPField<Scalar: TensorScalar>: CNFVectorField {
    public let dimension: Int
    public let layers: [Linear<Scalar>]

    /// Creates the network `d → hiddenSizes… → d` with PyTorch's default initialisation.
    ///
    /// - Precondition: `dimension` and every hidden size are positive.
    public init(dimension: Int, hiddenSizes: [Int], generator: inout RandomGenerator) {
        precondition(dimension > 0, "TimeConditionedMLPField: dimension must be positive, got \(dimension)")
        precondition(
            hiddenSizes.allSatisfy { $0 > 0 },
            "TimeConditionedMLPField: hidden sizes must be positive, got \(hiddenSizes)")
        self.dimension = dimension
        let sizes = [dimension] + hiddenSizes + [dimension]
        layers = (0..<(sizes.count - 1)).map { index in
            Linear(inputSize: sizes[index] + 1, outputSize: sizes[index + 1], generator: &generator)
        }
    }

    public func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        evaluate(t, z, constantParameters: false)
    }

    public func valueWithConstantParameters(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        evaluate(t, z, constantParameters: true)
    }

    private func evaluate(_ t: Double, _ z: Tensor<Scalar>, constantParameters: Bool) -> Tensor<Scalar> {
        precondition(
            z.rank == 2 && z.shape[1] == dimension,
            "TimeConditionedMLPField: z must have shape [batch, \(dimension)], got \(z.shape)")
        let time = Tensor<Scalar>(repeating: Scalar(t), shape: [z.shape[0], 1])
        var h = z
        for (index, layer) in layers.enumerated() {
            let input = Tensor.concatenated([h, time], alongAxis: 1)
            if constantParameters {
                // Detached views of the weights are constants for the recorded graph.
                h = matmul(input, layer.weight.detached(), transposeB: true)
                if let bias = layer.bias { h = h + bias.detached() }
                if index < layers.count - 1 { h = h.tanh() }
            } else {
                h = layer(input, activation: index < layers.count - 1 ? .tanh : nil)
            }
        }
        return h
    }
}
