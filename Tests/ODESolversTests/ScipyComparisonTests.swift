import Foundation
import ODESolvers
import Testing

/// A problem of the SciPy comparison, defined as in `Reference/scipy_rk45_statistics.py`.
struct ComparisonProblem: Sendable, CustomTestStringConvertible {
    let name: String
    let initialState: [Double]
    let endTime: Double
    let dynamics: @Sendable (Double, StateVector<Double>) -> StateVector<Double>

    var testDescription: String { name }

    static let all: [ComparisonProblem] = [
        ComparisonProblem(name: "exponentialDecay", initialState: [1], endTime: 20) { _, y in [-y[0]] },
        ComparisonProblem(name: "harmonicOscillator", initialState: [1, 0], endTime: 10) { _, y in
            [y[1], -y[0]]
        },
        ComparisonProblem(name: "lotkaVolterra", initialState: [1, 3], endTime: 20) { _, y in
            [2 * (y[0] - y[0] * y[1]), -(y[1] - y[0] * y[1])]
        },
        ComparisonProblem(name: "vanDerPol", initialState: [2, 0], endTime: 20) { _, y in
            [y[1], (1 - y[0] * y[0]) * y[1] - y[0]]
        },
        ComparisonProblem(name: "twoBody", initialState: [0.5, 0, 0, 3.0.squareRoot()], endTime: 20) { _, y in
            let r3 = pow(y[0] * y[0] + y[1] * y[1], 1.5)
            return [y[2], y[3], -y[0] / r3, -y[1] / r3]
        },
    ]
}

/// SciPy 1.17.1 `solve_ivp(method="RK45")` statistics, printed by
/// `Reference/scipy_rk45_statistics.py` on Python 3.11, x86-64 Linux.
let scipyRK45Statistics: [(problem: String, rtol: Double, atol: Double, nfev: Int, accepted: Int, rejected: Int)] = [
    ("exponentialDecay", 1e-3, 1e-6, nfev: 104, accepted: 17, rejected: 0),
    ("exponentialDecay", 1e-6, 1e-9, nfev: 326, accepted: 54, rejected: 0),
    ("exponentialDecay", 1e-9, 1e-12, nfev: 1178, accepted: 196, rejected: 0),
    ("harmonicOscillator", 1e-3, 1e-6, nfev: 86, accepted: 14, rejected: 0),
    ("harmonicOscillator", 1e-6, 1e-9, nfev: 368, accepted: 52, rejected: 9),
    ("harmonicOscillator", 1e-9, 1e-12, nfev: 1280, accepted: 204, rejected: 9),
    ("lotkaVolterra", 1e-3, 1e-6, nfev: 338, accepted: 41, rejected: 15),
    ("lotkaVolterra", 1e-6, 1e-9, nfev: 992, accepted: 140, rejected: 25),
    ("lotkaVolterra", 1e-9, 1e-12, nfev: 3356, accepted: 548, rejected: 11),
    ("vanDerPol", 1e-3, 1e-6, nfev: 434, accepted: 52, rejected: 20),
    ("vanDerPol", 1e-6, 1e-9, nfev: 1436, accepted: 176, rejected: 63),
    ("vanDerPol", 1e-9, 1e-12, nfev: 4370, accepted: 663, rejected: 65),
    ("twoBody", 1e-3, 1e-6, nfev: 290, accepted: 37, rejected: 11),
    ("twoBody", 1e-6, 1e-9, nfev: 926, accepted: 121, rejected: 33),
    ("twoBody", 1e-9, 1e-12, nfev: 2996, accepted: 476, rejected: 23),
]

/// SciPy 1.17.1 `RK45(...).h_abs`, the first step size of its initial step rule, printed by
/// the same script.
let scipyRK45InitialSteps: [(problem: String, rtol: Double, atol: Double, initialStep: Double)] = [
    ("exponentialDecay", 1e-3, 1e-6, initialStep: 0.10001999200479661),
    ("exponentialDecay", 1e-6, 1e-9, initialStep: 0.025123886079654528),
    ("exponentialDecay", 1e-9, 1e-12, initialStep: 0.006310834855027662),
    ("harmonicOscillator", 1e-3, 1e-6, initialStep: 0.000999000999000999),
    ("lotkaVolterra", 1e-3, 1e-6, initialStep: 0.061196913464035704),
    ("lotkaVolterra", 1e-6, 1e-9, initialStep: 0.015371969658057722),
    ("lotkaVolterra", 1e-9, 1e-12, initialStep: 0.0038612642009652146),
    ("vanDerPol", 1e-6, 1e-9, initialStep: 0.0004997501249375313),
    ("twoBody", 1e-9, 1e-12, initialStep: 0.0003240255242360249),
]

@Suite("Comparison with SciPy RK45")
struct ScipyComparisonTests {
    @Test("dopri5 needs within 3% of SciPy RK45's function evaluations", arguments: ComparisonProblem.all)
    func functionEvaluationsMatchScipy(problem: ComparisonProblem) throws {
        for reference in scipyRK45Statistics where reference.problem == problem.name {
            let solution = try odeint(
                problem.dynamics, StateVector(problem.initialState), at: [0, problem.endTime],
                method: .dopri5, options: tolerances(relative: reference.rtol, absolute: reference.atol))
            let statistics = solution.statistics
            print(
                "scipy comparison \(problem.name) rtol \(reference.rtol): NFE \(statistics.functionEvaluations)"
                    + " (SciPy \(reference.nfev)), accepted \(statistics.acceptedSteps) (\(reference.accepted)),"
                    + " rejected \(statistics.rejectedSteps) (\(reference.rejected))")
            let relativeDifference =
                abs(Double(statistics.functionEvaluations - reference.nfev)) / Double(reference.nfev)
            #expect(
                relativeDifference <= 0.03,
                "\(problem.name) rtol \(reference.rtol): NFE \(statistics.functionEvaluations) vs SciPy \(reference.nfev)")
        }
    }

    @Test("evaluation totals of both step rules")
    func nonShrinkingTotal() throws {
        // docs/solvers.md quotes these totals: 18,480 with the default, 19,410 without shrinking.
        var defaultTotal = 0
        var nonShrinkingTotal = 0
        for reference in scipyRK45Statistics {
            let problem = try #require(ComparisonProblem.all.first { $0.name == reference.problem })
            for controller in [StepSizeController.integral, .nonShrinking] {
                var options = tolerances(relative: reference.rtol, absolute: reference.atol)
                options.stepSizeController = controller
                let solution = try odeint(
                    problem.dynamics, StateVector(problem.initialState), at: [0, problem.endTime],
                    method: .dopri5, options: options)
                if controller == .integral {
                    defaultTotal += solution.statistics.functionEvaluations
                } else {
                    nonShrinkingTotal += solution.statistics.functionEvaluations
                }
            }
        }
        #expect(defaultTotal == 18_480)
        #expect(nonShrinkingTotal == 19_410)
    }

    @Test("the automatic first step equals SciPy's initial step")
    func initialStepMatchesScipy() throws {
        for reference in scipyRK45InitialSteps {
            let problem = try #require(ComparisonProblem.all.first { $0.name == reference.problem })
            let collector = ReportCollector()
            var options = tolerances(relative: reference.rtol, absolute: reference.atol)
            options.stepObserver = { collector.add($0) }
            _ = try odeint(
                problem.dynamics, StateVector(problem.initialState), at: [0, problem.endTime],
                method: .dopri5, options: options)
            let first = try #require(collector.reports.first)
            // Without a rejection, the first accepted step is the initial step itself.
            try #require(first.statistics.rejectedSteps == 0, "\(reference.problem): first step rejected")
            #expect(
                abs(first.stepSize - reference.initialStep) <= 1e-12 * reference.initialStep,
                "\(reference.problem) rtol \(reference.rtol): \(first.stepSize) vs \(reference.initialStep)")
        }
    }
}
