extension ButcherTableau {
    /// The classic fourth-order Runge–Kutta method in Kutta's 3/8-rule form.
    ///
    /// Order 4, four stages, no error estimate (fixed step), not FSAL. Dense output: cubic
    /// Hermite, whose O(h⁴) interpolation error matches the method's order. The 3/8 rule
    /// (nodes 0, 1/3, 2/3, 1) is the variant that torchdiffeq calls `rk4`. Source: Kutta
    /// (1901); Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.1, Table 1.2.
    public static let rk4 = ButcherTableau(
        name: "rk4",
        order: 4,
        nodes: [0, 1.0 / 3, 2.0 / 3, 1],
        stageCoefficients: [
            [1.0 / 3],
            [-1.0 / 3, 1],
            [1, -1, 1],
        ],
        weights: [1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8])
}
