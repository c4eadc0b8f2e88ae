import TensorEngine

/// Flattens every dimension from `startAxis` on into one, as PyTorch's `nn.Flatten`; the
/// default keeps the batch dimension, so `[N, C, H, W]` becomes `[N, C·H·W]`.
public final class Flatten<Scalar: TensorScalar>: Layer {
    /// First dimension to flatten; negative values count from the end.
    public let startAxis: Int

    public init(startAxis: Int = 1) {
        self.startAxis = startAxis
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.flattened(from: startAxis)
    }
}
