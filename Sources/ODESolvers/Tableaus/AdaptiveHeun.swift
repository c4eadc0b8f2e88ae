extension ButcherTableau {
    /// Heun–Euler 2(1): Heun's method with forward Euler as the embedded solution.
    ///
    /// Order 2, embedded order 1, two stages, not FSAL (the end derivative is the next step's
    /// first stage, evaluated once). Dense output: cubic Hermite. Source: the pair of Heun's
    /// and Euler's methods, as in torchdiffeq's `adaptive_heun`.
    public static let adaptiveHeun = ButcherTableau(
        name: "adaptiveHeun",
        order: 2,
        nodes: [0, 1],
        stageCoefficients: [[1]],
        weights: [1.0 / 2, 1.0 / 2],
        errorEstimator: .embedded(order: 1, errorWeights: [-1.0 / 2, 1.0 / 2]))
}
