import Foundation
import ODESolvers
import Testing

/// Rooted trees up to a given order, for Butcher's order conditions.
///
/// A method has order p when `Σ_i b_i Φ_i(t) = 1/γ(t)` for every rooted tree t with at most p
/// vertices, where `Φ(t)_i = Π_children (A Φ(child))_i` (all ones for a single vertex) and
/// `γ(t) = |t| Π_children γ(child)` (Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.2). A
/// continuous extension of order q satisfies `Σ_i b_i(θ) Φ_i(t) = θ^|t| / γ(t)` for |t| ≤ q.
struct RootedTrees {
    /// Children of each tree as ids of smaller trees, in non-decreasing order.
    private(set) var children: [[Int]] = []
    private(set) var orders: [Int] = []
    private(set) var densities: [Double] = []

    init(maximumOrder: Int) {
        var idsByOrder: [[Int]] = Array(repeating: [], count: maximumOrder + 1)
        for order in 1...maximumOrder {
            for forest in forests(totalOrder: order - 1, smallestId: 0, idsByOrder: idsByOrder) {
                let id = children.count
                children.append(forest)
                orders.append(order)
                densities.append(forest.reduce(Double(order)) { $0 * densities[$1] })
                idsByOrder[order].append(id)
            }
        }
    }

    /// Multisets of trees (ids at least `smallestId`, non-decreasing) whose orders sum to
    /// `totalOrder`.
    private func forests(totalOrder: Int, smallestId: Int, idsByOrder: [[Int]]) -> [[Int]] {
        if totalOrder == 0 { return [[]] }
        var result: [[Int]] = []
        for id in smallestId..<children.count where orders[id] <= totalOrder {
            for rest in forests(totalOrder: totalOrder - orders[id], smallestId: id, idsByOrder: idsByOrder) {
                result.append([id] + rest)
            }
        }
        return result
    }

    /// `Φ(t)` for every tree, given the full coefficient matrix `a` (square, zero above the
    /// diagonal).
    func stageWeights(matrix a: [[Double]]) -> [[Double]] {
        let stageCount = a.count
        var phi: [[Double]] = []
        var aTimesPhi: [[Double]] = []
        for id in children.indices {
            var vector = Array(repeating: 1.0, count: stageCount)
            for child in children[id] {
                for i in 0..<stageCount {
                    vector[i] *= aTimesPhi[child][i]
                }
            }
            phi.append(vector)
            aTimesPhi.append(
                (0..<stageCount).map { i in (0..<stageCount).reduce(0.0) { $0 + a[i][$1] * vector[$1] } })
        }
        return phi
    }
}

/// Returns the full square coefficient matrix of a tableau, with the extra dense-output stages.
func fullMatrix(_ tableau: ButcherTableau) -> [[Double]] {
    var rows = [[Double]()] + tableau.stageCoefficients
    if case .polynomial(let continuousExtension) = tableau.denseOutput {
        rows += continuousExtension.extraStageCoefficients
    }
    return rows.map { $0 + Array(repeating: 0, count: rows.count - $0.count) }
}

/// Largest violation of the order conditions of a weight vector for trees of `order` vertices.
func orderConditionResidual(
    weights: [Double], phi: [[Double]], trees: RootedTrees, order: Int, theta: Double = 1
) -> Double {
    var residual = 0.0
    for id in phi.indices where trees.orders[id] == order {
        let sum = zip(weights, phi[id]).reduce(0.0) { $0 + $1.0 * $1.1 }
        let expected = pow(theta, Double(order)) / trees.densities[id]
        residual = max(residual, abs(sum - expected))
    }
    return residual
}

func padded(_ values: [Double], to count: Int) -> [Double] {
    values + Array(repeating: 0, count: count - values.count)
}

let builtInTableaus: [ButcherTableau] = [
    .euler, .midpoint, .heun, .rk4, .adaptiveHeun, .fehlberg2, .bosh3, .dopri5, .tsit5, .dopri8,
]

@Suite("Butcher tableaux")
struct TableauTests {
    static let trees = RootedTrees(maximumOrder: 9)

    @Test("tree counts match the known sequence")
    func treeCounts() {
        let counts = (1...9).map { order in Self.trees.orders.filter { $0 == order }.count }
        #expect(counts == [1, 1, 2, 4, 9, 20, 48, 115, 286])
    }

    @Test("weights satisfy the order conditions up to the declared order, and no further",
          arguments: builtInTableaus)
    func declaredOrder(tableau: ButcherTableau) {
        let matrix = fullMatrix(tableau)
        let phi = Self.trees.stageWeights(matrix: matrix)
        let weights = padded(tableau.weights, to: matrix.count)
        for order in 1...tableau.order {
            let residual = orderConditionResidual(weights: weights, phi: phi, trees: Self.trees, order: order)
            #expect(residual < 1e-12, "\(tableau.name): order-\(order) residual \(residual)")
        }
        let next = orderConditionResidual(
            weights: weights, phi: phi, trees: Self.trees, order: tableau.order + 1)
        #expect(next > 1e-8, "\(tableau.name) satisfies order \(tableau.order + 1) too")
    }

    @Test("embedded solutions have their declared order", arguments: builtInTableaus.filter(\.isAdaptive))
    func embeddedOrder(tableau: ButcherTableau) throws {
        let matrix = fullMatrix(tableau)
        let phi = Self.trees.stageWeights(matrix: matrix)
        let weights = padded(tableau.weights, to: matrix.count)
        var embedded: [(order: Int, errorWeights: [Double])] = []
        switch try #require(tableau.errorEstimator) {
        case .embedded(let order, let errorWeights):
            embedded = [(order, errorWeights)]
        case .dormandPrince853(let fifthOrderWeights, let thirdOrderWeights):
            embedded = [(5, fifthOrderWeights), (3, thirdOrderWeights)]
        }
        for (order, errorWeights) in embedded {
            let embeddedWeights = zip(weights, padded(errorWeights, to: matrix.count)).map { $0 - $1 }
            for treeOrder in 1...order {
                let residual = orderConditionResidual(
                    weights: embeddedWeights, phi: phi, trees: Self.trees, order: treeOrder)
                #expect(residual < 1e-12, "\(tableau.name) embedded: order-\(treeOrder) residual \(residual)")
            }
            let next = orderConditionResidual(
                weights: embeddedWeights, phi: phi, trees: Self.trees, order: order + 1)
            #expect(next > 1e-8, "\(tableau.name): embedded solution exceeds order \(order)")
        }
    }

    @Test("continuous extensions have their declared order at interior θ",
          arguments: builtInTableaus.filter { if case .polynomial = $0.denseOutput { true } else { false } })
    func continuousExtensionOrder(tableau: ButcherTableau) throws {
        guard case .polynomial(let continuousExtension) = tableau.denseOutput else { return }
        let matrix = fullMatrix(tableau)
        let phi = Self.trees.stageWeights(matrix: matrix)
        for theta in [0.1, 0.35, 0.5, 0.8] {
            let weights = continuousExtension.coefficients.map { row in
                row.enumerated().reduce(0.0) { $0 + $1.element * pow(theta, Double($1.offset + 1)) }
            }
            for order in 1...continuousExtension.order {
                let residual = orderConditionResidual(
                    weights: weights, phi: phi, trees: Self.trees, order: order, theta: theta)
                #expect(residual < 1e-12, "\(tableau.name) θ = \(theta): order-\(order) residual \(residual)")
            }
        }
    }

    @Test("FSAL is detected exactly for the pairs that have it")
    func firstSameAsLast() {
        let fsal = builtInTableaus.filter(\.isFSAL).map(\.name)
        #expect(fsal == ["bosh3", "dopri5", "tsit5", "dopri8"])
        #expect(ButcherTableau.dopri5.evaluationsPerStep == 6)
        #expect(ButcherTableau.dopri8.evaluationsPerStep == 12)
        #expect(ButcherTableau.fehlberg2.evaluationsPerStep == 3)
    }

    @Test("error estimator orders set the controller exponents")
    func errorEstimatorOrders() {
        #expect(ButcherTableau.dopri5.errorEstimatorOrder == 4)
        #expect(ButcherTableau.tsit5.errorEstimatorOrder == 4)
        #expect(ButcherTableau.bosh3.errorEstimatorOrder == 2)
        #expect(ButcherTableau.dopri8.errorEstimatorOrder == 7)
        #expect(ButcherTableau.dopri8.embeddedOrder == 5)
        #expect(ButcherTableau.rk4.embeddedOrder == nil)
    }

    @Test("a custom tableau runs through explicitRungeKutta")
    func customTableau() throws {
        // Ralston's second-order method (nodes 0, 2/3; weights 1/4, 3/4).
        let ralston = ButcherTableau(
            name: "ralston", order: 2, nodes: [0, 2.0 / 3], stageCoefficients: [[2.0 / 3]],
            weights: [1.0 / 4, 3.0 / 4])
        let solution = try odeint(
            { _, y in StateVector<Double>([-y[0]]) }, [1.0], at: [0, 1],
            method: .explicitRungeKutta(ralston), options: ODESolverOptions(fixedGrid: .stepSize(0.01)))
        #expect(abs(solution.states[1][0] - exp(-1.0)) < 1e-5)
        #expect(solution.statistics.acceptedSteps == 100)
    }

    @Test("a tableau whose row does not sum to its node stops the program")
    func malformedTableauTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = ButcherTableau(
                name: "broken", order: 2, nodes: [0, 0.5], stageCoefficients: [[0.4]],
                weights: [0, 1])
        }
    }
}
