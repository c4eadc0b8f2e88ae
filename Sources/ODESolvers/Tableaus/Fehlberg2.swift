extension ButcherTableau {
    /// Runge–Kutta–Fehlberg 2(1), Fehlberg's RKF1(2) pair run with the second-order solution.
    ///
    /// Order 2, embedded order 1, three stages. The third stage sits at the first-order
    /// solution, so with local extrapolation the method is not FSAL and costs three evaluations
    /// per step. Dense output: cubic Hermite. Source: E. Fehlberg, "Low-order classical
    /// Runge–Kutta formulas with stepsize control and their application to some heat transfer
    /// problems", NASA TR R-315 (1969).
    public static let fehlberg2 = ButcherTableau(
        name: "fehlberg2",
        order: 2,
        nodes: [0, 1.0 / 2, 1],
        stageCoefficients: [
            [1.0 / 2],
            [1.0 / 256, 255.0 / 256],
        ],
        weights: [1.0 / 512, 255.0 / 256, 1.0 / 512],
        // b - b̂ with the first-order weights b̂ = (1/256, 255/256, 0).
        errorEstimator: .embedded(order: 1, errorWeights: [-1.0 / 512, 0, 1.0 / 512]))
}
