import TensorEngine

/// Weight initialisations, with PyTorch's defaults so that published hyper-parameters carry
/// over.
public enum Initialization {
    /// Returns the fan-in of a weight of shape `[outputs, inputs, kernel...]`: `inputs` times the
    /// kernel size, as PyTorch's `_calculate_fan_in_and_fan_out` counts it.
    ///
    /// - Precondition: the shape has rank 2 or more.
    public static func fanIn(weightShape shape: [Int]) -> Int {
        precondition(
            shape.count >= 2, "Initialization.fanIn: a weight needs rank 2 or more, got shape \(shape)")
        return shape.dropFirst().reduce(1, *)
    }

    /// Values drawn uniformly from `[-bound, bound)`.
    public static func uniform<Scalar>(
        shape: [Int], bound: Double, generator: inout RandomGenerator
    ) -> Tensor<Scalar> {
        Tensor(randomUniform: shape, lower: Scalar(-bound), upper: Scalar(bound), generator: &generator)
    }

    /// He (Kaiming) uniform initialisation: uniform on `[-b, b)` with
    /// `b = gain · sqrt(3 / fanIn)` and `gain = sqrt(2 / (1 + a²))`.
    ///
    /// He, Zhang, Ren and Sun, "Delving Deep into Rectifiers" (ICCV 2015), with the gain for
    /// a leaky ReLU of negative slope `a` as in PyTorch's `kaiming_uniform_`. PyTorch's
    /// `Linear` and `Conv2d` use `a = sqrt(5)`, which gives `b = 1 / sqrt(fanIn)`.
    public static func kaimingUniform<Scalar>(
        shape: [Int], negativeSlope a: Double = 5.0.squareRoot(), generator: inout RandomGenerator
    ) -> Tensor<Scalar> {
        let fanIn = fanIn(weightShape: shape)
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = fanIn > 0 ? gain * (3 / Double(fanIn)).squareRoot() : 0
        return uniform(shape: shape, bound: bound, generator: &generator)
    }

    /// PyTorch's default bias of `Linear` and `Conv2d`: uniform on `[-1/sqrt(fanIn), 1/sqrt(fanIn))`.
    public static func defaultBias<Scalar>(
        count: Int, fanIn: Int, generator: inout RandomGenerator
    ) -> Tensor<Scalar> {
        let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
        return uniform(shape: [count], bound: bound, generator: &generator)
    }
}
