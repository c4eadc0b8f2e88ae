extension ButcherTableau {
    /// Dormand–Prince 5(4), the default method (torchdiffeq's `dopri5`, SciPy's RK45, MATLAB's
    /// ode45).
    ///
    /// Order 5 with local extrapolation, embedded order 4, seven stages, FSAL (six evaluations
    /// per step). Dense output: Shampine's fourth-order continuous extension. Sources: J. R.
    /// Dormand and P. J. Prince, "A family of embedded Runge–Kutta formulae", J. Comput. Appl.
    /// Math. 6(1), 19–26 (1980); L. F. Shampine, "Some practical Runge–Kutta formulas", Math.
    /// Comp. 46, 135–150 (1986); Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.5–II.6.
    ///
    /// The dense-output rows expand Hairer's nested form
    /// `θ(r1 + (1-θ)(r2 + θ(r3 + (1-θ) r4)))` into powers of θ; the script
    /// `Tests/ODESolversTests/Reference/dense_output_coefficients.py` derives them.
    public static let dopri5 = ButcherTableau(
        name: "dopri5",
        order: 5,
        nodes: [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1],
        stageCoefficients: dopri5StageCoefficients,
        weights: dopri5Weights,
        errorEstimator: .embedded(order: 4, errorWeights: dopri5ErrorWeights),
        denseOutput: .polynomial(ContinuousExtension(order: 4, coefficients: dopri5DenseCoefficients)))
}

// Typed constants keep the literals quick to type-check.

private let dopri5StageCoefficients: [[Double]] = [
    [1.0 / 5],
    [3.0 / 40, 9.0 / 40],
    [44.0 / 45, -56.0 / 15, 32.0 / 9],
    [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
    [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
    [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
]

private let dopri5Weights: [Double] = [
    35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0,
]

/// b - b̂ with the fourth-order weights
/// b̂ = (5179/57600, 0, 7571/16695, 393/640, -92097/339200, 187/2100, 1/40).
private let dopri5ErrorWeights: [Double] = [
    71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40,
]

private let dopri5DenseCoefficients: [[Double]] = [
    [1, -8048581381.0 / 2820520608, 8663915743.0 / 2820520608, -12715105075.0 / 11282082432],
    [0, 0, 0, 0],
    [0, 131558114200.0 / 32700410799, -68118460800.0 / 10900136933, 87487479700.0 / 32700410799],
    [0, -1754552775.0 / 470086768, 14199869525.0 / 1410260304, -10690763975.0 / 1880347072],
    [0, 127303824393.0 / 49829197408, -318862633887.0 / 49829197408,
     701980252875.0 / 199316789632],
    [0, -282668133.0 / 205662961, 2019193451.0 / 616988883, -1453857185.0 / 822651844],
    [0, 40617522.0 / 29380423, -110615467.0 / 29380423, 69997945.0 / 29380423],
]
