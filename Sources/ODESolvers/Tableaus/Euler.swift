extension ButcherTableau {
    /// Forward Euler: `y_new = y + h f(t, y)`.
    ///
    /// Order 1, one stage, no error estimate (fixed step), not FSAL. Dense output: cubic
    /// Hermite. Source: Euler (1768); any textbook, e.g. Hairer, Nørsett & Wanner, Solving
    /// ODEs I, Sec. II.1.
    public static let euler = ButcherTableau(
        name: "euler",
        order: 1,
        nodes: [0],
        stageCoefficients: [],
        weights: [1])
}
