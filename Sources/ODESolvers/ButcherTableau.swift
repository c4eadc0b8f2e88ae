/// The coefficients of an explicit Runge–Kutta method, with its error estimator and dense output.
///
/// A step from `(t, y)` with size `h` evaluates the stages
///
/// ```
/// k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j),   i = 0 ..< s
/// y_new = y + h Σ_i b_i k_i
/// ```
///
/// The initializer checks the tableau and stops the program on a malformed one: every row of
/// `a` must sum to its node `c_i`, the weights `b` to 1, each error-weight vector to 0, and a
/// continuous extension must reproduce `b` at θ = 1. The built-in methods are static members,
/// one file each (``dopri5``, ``tsit5`` and so on).
public struct ButcherTableau: Sendable, Hashable {
    /// Short name used in messages, such as "dopri5".
    public let name: String

    /// Order of the propagated solution `y_new`.
    public let order: Int

    /// The nodes `c_i`; `c_0` is 0.
    public let nodes: [Double]

    /// Rows `1 ..< s` of the strictly lower-triangular matrix `a`; row `i - 1` contains
    /// `a_i0 ... a_i(i-1)`.
    public let stageCoefficients: [[Double]]

    /// The weights `b_i` of the propagated solution.
    public let weights: [Double]

    /// The local error estimate, or `nil` for a fixed-step method.
    public let errorEstimator: ErrorEstimator?

    /// The interpolant between steps.
    public let denseOutput: DenseOutput

    /// True when the last stage is evaluated at the new solution (`c_{s-1} = 1` and the last row
    /// of `a` equals `b`), so it is the first stage of the next step.
    public let isFSAL: Bool

    // Flattened copies for the stepping loop, precomputed once per tableau.

    /// Rows of `a` for every stage, including the extra dense-output stages, concatenated;
    /// row `i` starts at `i * (i - 1) / 2`.
    @usableFromInline let flatStageCoefficients: [Double]
    /// Nodes of every stage, including the extra dense-output stages.
    @usableFromInline let allNodes: [Double]
    /// Number of leading stages with a non-zero weight `b_i`.
    @usableFromInline let weightedStageCount: Int
    /// Error weights of the first (or only) estimate, padded to `s` entries.
    @usableFromInline let primaryErrorWeights: [Double]
    /// Error weights of the second DOP853 estimate, padded to `s` entries; empty otherwise.
    @usableFromInline let secondaryErrorWeights: [Double]
    /// Number of leading stages that the error estimate uses.
    @usableFromInline let errorStageCount: Int
    /// Continuous-extension coefficients, stage-major: `P[i][m]` at `i * denseDegree + m`.
    @usableFromInline let flatDenseCoefficients: [Double]
    @usableFromInline let denseDegree: Int
    /// Number of leading stages that the continuous extension uses.
    @usableFromInline let denseStageCount: Int

    /// Creates a tableau and checks its consistency.
    ///
    /// - Parameters:
    ///   - name: Short name used in messages.
    ///   - order: Order of the propagated solution, at least 1.
    ///   - nodes: `c_0 ... c_{s-1}`, with `c_0 = 0`.
    ///   - stageCoefficients: `s - 1` rows; row `i - 1` contains the `i` coefficients of stage `i`.
    ///   - weights: `s` weights `b_i`.
    ///   - errorEstimator: The embedded error estimate, or `nil` for a fixed-step method.
    ///   - denseOutput: The interpolant between steps; the default is cubic Hermite.
    /// - Precondition: The rows of `a` sum to the nodes, the weights sum to 1 and the error
    ///   weights to 0, each within `1e-12` times the sum of the magnitudes involved.
    public init(
        name: String,
        order: Int,
        nodes: [Double],
        stageCoefficients: [[Double]],
        weights: [Double],
        errorEstimator: ErrorEstimator? = nil,
        denseOutput: DenseOutput = .cubicHermite
    ) {
        let stageCount = nodes.count
        precondition(order >= 1, "ButcherTableau \(name): order \(order) must be at least 1")
        precondition(
            stageCount >= 1 && nodes[0] == 0,
            "ButcherTableau \(name): needs at least one stage and c_0 = 0, got nodes \(nodes)")
        precondition(
            weights.count == stageCount,
            "ButcherTableau \(name): \(weights.count) weights for \(stageCount) stages")
        Self.checkRows(stageCoefficients, nodes: Array(nodes.dropFirst()), firstStage: 1, name: name)
        Self.checkSum(weights, equals: 1, what: "the weights b", name: name)

        self.name = name
        self.order = order
        self.nodes = nodes
        self.stageCoefficients = stageCoefficients
        self.weights = weights
        self.errorEstimator = errorEstimator
        self.denseOutput = denseOutput

        let lastRow = stageCoefficients.last ?? []
        self.isFSAL =
            stageCount >= 2 && nodes[stageCount - 1] == 1 && weights[stageCount - 1] == 0
            && zip(lastRow, weights).allSatisfy { Self.nearlyEqual($0, $1) }
        self.weightedStageCount = (weights.lastIndex { $0 != 0 } ?? 0) + 1

        // Error weights.
        var primary: [Double] = []
        var secondary: [Double] = []
        switch errorEstimator {
        case nil:
            break
        case .embedded(let embeddedOrder, let errorWeights):
            precondition(
                embeddedOrder >= 1 && embeddedOrder != order,
                "ButcherTableau \(name): embedded order \(embeddedOrder) must be at least 1 and "
                    + "differ from the order \(order)")
            primary = Self.checkedErrorWeights(errorWeights, stageCount: stageCount, name: name)
        case .dormandPrince853(let fifthOrderWeights, let thirdOrderWeights):
            primary = Self.checkedErrorWeights(fifthOrderWeights, stageCount: stageCount, name: name)
            secondary = Self.checkedErrorWeights(thirdOrderWeights, stageCount: stageCount, name: name)
        }
        self.primaryErrorWeights = primary
        self.secondaryErrorWeights = secondary
        let lastErrorStage = max(
            primary.lastIndex { $0 != 0 } ?? 0, secondary.lastIndex { $0 != 0 } ?? 0)
        self.errorStageCount = errorEstimator == nil ? 0 : lastErrorStage + 1

        // Dense output.
        var allNodes = nodes
        var allRows = stageCoefficients
        switch denseOutput {
        case .cubicHermite:
            self.flatDenseCoefficients = []
            self.denseDegree = 0
            self.denseStageCount = 0
        case .polynomial(let extension_):
            Self.checkRows(
                extension_.extraStageCoefficients, nodes: extension_.extraNodes,
                firstStage: stageCount, name: name)
            allNodes += extension_.extraNodes
            allRows += extension_.extraStageCoefficients
            let totalStages = allNodes.count
            let rows = extension_.coefficients
            let degree = rows.first?.count ?? 0
            precondition(
                rows.count == totalStages && degree >= 1 && rows.allSatisfy { $0.count == degree },
                "ButcherTableau \(name): the continuous extension needs \(totalStages) rows of "
                    + "equal length, got \(rows.map(\.count))")
            // Σ_i b_i(θ) = θ, and b_i(1) = b_i.
            for power in 0..<degree {
                Self.checkSum(
                    rows.map { $0[power] }, equals: power == 0 ? 1 : 0,
                    what: "the continuous-extension coefficients of θ^\(power + 1)", name: name)
            }
            for (stage, row) in rows.enumerated() {
                let expected = stage < stageCount ? weights[stage] : 0
                Self.checkSum(
                    row, equals: expected,
                    what: "the continuous extension of stage \(stage) at θ = 1 (b_\(stage))",
                    name: name)
            }
            self.flatDenseCoefficients = rows.flatMap { $0 }
            self.denseDegree = degree
            self.denseStageCount =
                (rows.lastIndex { row in row.contains { $0 != 0 } } ?? 0) + 1
        }
        self.allNodes = allNodes
        self.flatStageCoefficients = allRows.flatMap { $0 }
    }

    /// Number of stages `s`, counting a first-same-as-last stage but not extra dense-output stages.
    public var stageCount: Int { nodes.count }

    /// True when the method has an error estimator and so runs with adaptive steps.
    public var isAdaptive: Bool { errorEstimator != nil }

    /// Order of the embedded solution that the error estimate compares against, or `nil` for a
    /// fixed-step method; DOP853 reports 5.
    public var embeddedOrder: Int? {
        switch errorEstimator {
        case nil: nil
        case .embedded(let order, _): order
        case .dormandPrince853: 5
        }
    }

    /// The power `q` in "the estimated local error is proportional to `h^(q+1)`", which sets the
    /// exponent of the step-size controller and of the initial step selection.
    ///
    /// This is the embedded order, except for DOP853 whose combined estimate behaves like
    /// `h^8` (order 7), as in Hairer's code.
    public var errorEstimatorOrder: Int {
        switch errorEstimator {
        case nil: order
        case .embedded(let embeddedOrder, _): min(order, embeddedOrder)
        case .dormandPrince853: 7
        }
    }

    /// Number of function evaluations in one step, counting a first-same-as-last stage once.
    public var evaluationsPerStep: Int { isFSAL ? stageCount - 1 : stageCount }

    // MARK: - Validation helpers

    static func nearlyEqual(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= 1e-14 * max(1, abs(a), abs(b))
    }

    static func checkSum(_ values: [Double], equals expected: Double, what: String, name: String) {
        precondition(
            values.allSatisfy(\.isFinite), "ButcherTableau \(name): \(what) contain a non-finite value")
        let sum = values.reduce(0, +)
        let scale = values.reduce(abs(expected)) { $0 + abs($1) }
        precondition(
            abs(sum - expected) <= 1e-12 * max(1, scale),
            "ButcherTableau \(name): \(what) sum to \(sum), expected \(expected)")
    }

    static func checkRows(_ rows: [[Double]], nodes: [Double], firstStage: Int, name: String) {
        precondition(
            rows.count == nodes.count,
            "ButcherTableau \(name): \(rows.count) rows of stage coefficients for \(nodes.count) "
                + "stages from stage \(firstStage) on")
        for (offset, row) in rows.enumerated() {
            let stage = firstStage + offset
            precondition(
                row.count == stage,
                "ButcherTableau \(name): row for stage \(stage) has \(row.count) coefficients, "
                    + "expected \(stage)")
            checkSum(
                row, equals: nodes[offset],
                what: "the coefficients of stage \(stage) (node c_\(stage))", name: name)
        }
    }

    static func checkedErrorWeights(_ errorWeights: [Double], stageCount: Int, name: String) -> [Double] {
        precondition(
            !errorWeights.isEmpty && errorWeights.count <= stageCount,
            "ButcherTableau \(name): \(errorWeights.count) error weights for \(stageCount) stages")
        checkSum(errorWeights, equals: 0, what: "the error weights", name: name)
        return errorWeights + Array(repeating: 0, count: stageCount - errorWeights.count)
    }
}

/// The local error estimate of a Runge–Kutta method.
public enum ErrorEstimator: Sendable, Hashable {
    /// The difference `h Σ e_i k_i` between the propagated solution and an embedded solution of
    /// order `order`; `e_i = b_i - b̂_i`, padded with zeros up to the stage count.
    case embedded(order: Int, errorWeights: [Double])

    /// The estimate of DOP853 (Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.10): two
    /// embedded differences `e5` (order 5) and `e3` (order 3), combined in the error norm as
    /// `‖e5‖² / sqrt(‖e5‖² + 0.01 ‖e3‖²)`.
    case dormandPrince853(fifthOrderWeights: [Double], thirdOrderWeights: [Double])
}

/// The interpolant of a Runge–Kutta method inside a step.
public enum DenseOutput: Sendable, Hashable {
    /// Cubic Hermite interpolation between `(y0, f0)` and `(y1, f1)`. Its local error is
    /// O(h⁴), the size of the global error of a fourth-order method, so it keeps the order of
    /// the methods up to RK4.
    case cubicHermite

    /// A continuous extension `y(t0 + θh) = y0 + h Σ_i b_i(θ) k_i` with polynomial weights,
    /// possibly with extra stages evaluated only when the step is interpolated.
    case polynomial(ContinuousExtension)
}

/// Polynomial weights `b_i(θ) = Σ_{m=1...degree} coefficients[i][m-1] θ^m` of a dense output.
public struct ContinuousExtension: Sendable, Hashable {
    /// Order of the interpolated solution.
    public let order: Int
    /// Nodes of the extra stages, numbered after the method's own stages.
    public let extraNodes: [Double]
    /// One row per extra stage; the row of stage `i` contains `a_i0 ... a_i(i-1)`.
    public let extraStageCoefficients: [[Double]]
    /// One row per stage (own and extra), lowest power of θ first.
    public let coefficients: [[Double]]

    /// Creates the polynomial weights of a continuous extension; ``ButcherTableau`` checks them.
    public init(
        order: Int,
        extraNodes: [Double] = [],
        extraStageCoefficients: [[Double]] = [],
        coefficients: [[Double]]
    ) {
        self.order = order
        self.extraNodes = extraNodes
        self.extraStageCoefficients = extraStageCoefficients
        self.coefficients = coefficients
    }
}
