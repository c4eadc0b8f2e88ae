extension ButcherTableau {
    /// Bogacki–Shampine 3(2), the pair behind MATLAB's ode23 and SciPy's RK23.
    ///
    /// Order 3, embedded order 2, four stages, FSAL (three evaluations per step). Dense output:
    /// cubic Hermite, third order. Source: P. Bogacki and L. F. Shampine, "A 3(2) pair of
    /// Runge–Kutta formulas", Appl. Math. Lett. 2(4), 321–325 (1989).
    public static let bosh3 = ButcherTableau(
        name: "bosh3",
        order: 3,
        nodes: [0, 1.0 / 2, 3.0 / 4, 1],
        stageCoefficients: [
            [1.0 / 2],
            [0, 3.0 / 4],
            [2.0 / 9, 1.0 / 3, 4.0 / 9],
        ],
        weights: [2.0 / 9, 1.0 / 3, 4.0 / 9, 0],
        // b - b̂ with the second-order weights b̂ = (7/24, 1/4, 1/3, 1/8).
        errorEstimator: .embedded(order: 2, errorWeights: [-5.0 / 72, 1.0 / 12, 1.0 / 9, -1.0 / 8]))
}
