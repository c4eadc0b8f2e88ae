extension ButcherTableau {
    /// Explicit midpoint rule: `y_new = y + h f(t + h/2, y + (h/2) f(t, y))`.
    ///
    /// Order 2, two stages, no error estimate (fixed step), not FSAL. Dense output: cubic
    /// Hermite. Source: Runge (1895); Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.1.
    public static let midpoint = ButcherTableau(
        name: "midpoint",
        order: 2,
        nodes: [0, 1.0 / 2],
        stageCoefficients: [[1.0 / 2]],
        weights: [0, 1])
}
