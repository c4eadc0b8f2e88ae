import Foundation
import ODESolvers

/// Every method, for tests that loop over all of them.
let fixedStepMethods: [ODEMethod] = [.euler, .midpoint, .heun, .rk4]
let adaptiveRungeKuttaMethods: [ODEMethod] = [
    .dopri5, .bosh3, .fehlberg2, .adaptiveHeun, .tsit5, .dopri8,
]
let adaptiveMethods: [ODEMethod] = adaptiveRungeKuttaMethods + [.adams]
let allMethods: [ODEMethod] = fixedStepMethods + adaptiveMethods

/// Largest absolute difference between two vectors of equal length.
func maximumAbsoluteDifference<Scalar: BinaryFloatingPoint>(
    _ a: StateVector<Scalar>, _ b: [Double]
) -> Double {
    precondition(a.count == b.count, "compared vectors of \(a.count) and \(b.count) components")
    return zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}

/// Options with scalar tolerances.
func tolerances(relative: Double, absolute: Double) -> ODESolverOptions {
    ODESolverOptions(relativeTolerance: .scalar(relative), absoluteTolerance: .scalar(absolute))
}

/// Times spaced evenly from `start` to `end`, both included.
func evenlySpacedTimes(from start: Double, to end: Double, count: Int) -> [Double] {
    (0..<count).map { start + (end - start) * Double($0) / Double(count - 1) }
}

/// Least-squares slope of `log(y)` against `log(x)`.
func logLogSlope(x: [Double], y: [Double]) -> Double {
    let logX = x.map { log($0) }
    let logY = y.map { log($0) }
    let meanX = logX.reduce(0, +) / Double(logX.count)
    let meanY = logY.reduce(0, +) / Double(logY.count)
    var numerator = 0.0
    var denominator = 0.0
    for (u, v) in zip(logX, logY) {
        numerator += (u - meanX) * (v - meanY)
        denominator += (u - meanX) * (u - meanX)
    }
    return numerator / denominator
}

/// Thread-safe list of the times at which a test's dynamics were evaluated.
final class EvaluationLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Double] = []

    func record(_ time: Double) {
        lock.lock()
        storage.append(time)
        lock.unlock()
    }

    var times: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

// MARK: - A linear test system with a known matrix exponential

/// `y' = A y` with `A = V diag(λ) V⁻¹` for a fixed, well-conditioned `V` and eigenvalues
/// `λ = (-0.5, -1, -2)`, so `exp(tA) = V diag(exp(tλ)) V⁻¹` is exact to rounding.
enum LinearTestSystem {
    static let eigenvectors: [[Double]] = [
        [1, 1, 0],
        [0, 1, 1],
        [1, 0, 1],
    ]
    static let eigenvalues: [Double] = [-0.5, -1, -2]

    /// Inverse of `eigenvectors`, computed by hand: det = 2, and the adjugate over 2.
    static let inverseEigenvectors: [[Double]] = [
        [0.5, -0.5, 0.5],
        [0.5, 0.5, -0.5],
        [-0.5, 0.5, 0.5],
    ]

    static let matrix: [[Double]] = (0..<3).map { i in
        (0..<3).map { j in
            (0..<3).reduce(0.0) { sum, k in
                sum + eigenvectors[i][k] * eigenvalues[k] * inverseEigenvectors[k][j]
            }
        }
    }

    static let initialState: [Double] = [1, -0.5, 2]

    /// `exp(tA) y0`.
    static func exactSolution(at t: Double) -> [Double] {
        let modal = (0..<3).map { k in
            exp(eigenvalues[k] * t) * (0..<3).reduce(0.0) { $0 + inverseEigenvectors[k][$1] * initialState[$1] }
        }
        return (0..<3).map { i in (0..<3).reduce(0.0) { $0 + eigenvectors[i][$1] * modal[$1] } }
    }

    static func dynamics<Scalar: BinaryFloatingPoint>(_ t: Double, _ y: StateVector<Scalar>)
        -> StateVector<Scalar>
    {
        StateVector(
            (0..<3).map { i in
                (0..<3).reduce(Scalar(0)) { $0 + Scalar(matrix[i][$1]) * y[$1] }
            })
    }
}
