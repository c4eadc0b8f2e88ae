extension ButcherTableau {
    /// Heun's method (explicit trapezoidal rule).
    ///
    /// Order 2, two stages, no error estimate (fixed step), not FSAL. Dense output: cubic
    /// Hermite. Source: Heun (1900); Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.1.
    public static let heun = ButcherTableau(
        name: "heun",
        order: 2,
        nodes: [0, 1],
        stageCoefficients: [[1]],
        weights: [1.0 / 2, 1.0 / 2])
}
