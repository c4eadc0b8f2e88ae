import Foundation
import ODESolvers
import Testing

/// Error at `t = 20` (largest absolute component error) and cost of one DETEST run.
func runDETEST(_ problem: DETESTProblem, method: ODEMethod, tolerance: Double) throws
    -> (error: Double, statistics: ODEStatistics)
{
    let solution = try odeint(
        problem.dynamics, StateVector(problem.initialState), at: [0, DETESTProblem.endTime],
        method: method,
        options: ODESolverOptions(
            relativeTolerance: .scalar(tolerance), absoluteTolerance: .scalar(tolerance),
            maximumSteps: 1_000_000))
    return (maximumAbsoluteDifference(solution.states[1], problem.reference), solution.statistics)
}

@Suite("DETEST non-stiff problems")
struct DETESTTests {
    static let methods: [ODEMethod] = [.dopri5, .tsit5, .dopri8, .bosh3, .adams]

    @Test("global error at t = 20 stays near the tolerance 1e-6", arguments: DETESTProblem.all)
    func accuracyAtModerateTolerance(problem: DETESTProblem) throws {
        for method in Self.methods {
            let (error, statistics) = try runDETEST(problem, method: method, tolerance: 1e-6)
            // The tolerance bounds the error of each step, relative to the solution's size,
            // so the global error at t = 20 may be a hundred times larger. It grows further
            // along the orbits of class D (most for eccentricity 0.9, D5) and along the three
            // Lotka–Volterra cycles of B1, whose phase error accumulates.
            let scale = max(1, problem.reference.map(abs).max() ?? 1)
            let bound: Double =
                if problem.name.hasPrefix("D") { 1e-2 } else if problem.name == "B1" { 1e-3 } else { 1e-4 }
            #expect(
                error < bound * scale, "\(problem.name) \(method.name): error \(error), \(statistics)")
        }
    }

    @Test("tighter tolerances give smaller errors on every problem", arguments: DETESTProblem.all)
    func errorFallsWithTolerance(problem: DETESTProblem) throws {
        for method in [ODEMethod.dopri5, .dopri8, .adams] {
            let loose = try runDETEST(problem, method: method, tolerance: 1e-4).error
            let tight = try runDETEST(problem, method: method, tolerance: 1e-9).error
            #expect(tight < loose, "\(problem.name) \(method.name): \(tight) at 1e-9 vs \(loose) at 1e-4")
        }
    }

    /// Prints the Markdown table of docs/solvers.md. Run it in release with
    /// `ODESOLVERS_DETEST_TABLE=1 swift test -c release --filter detestTable`.
    @Test(
        "print the DETEST table of error and function evaluations",
        .enabled(if: ProcessInfo.processInfo.environment["ODESOLVERS_DETEST_TABLE"] != nil))
    func detestTable() throws {
        let methods: [ODEMethod] = [.dopri5, .tsit5, .dopri8, .bosh3, .adams]
        for tolerance in [1e-3, 1e-6, 1e-9] {
            print("\nrtol = atol = \(tolerance): error at t = 20 / function evaluations\n")
            print("| problem | " + methods.map(\.name).joined(separator: " | ") + " |")
            print("|---|" + String(repeating: "---|", count: methods.count))
            var totals = Array(repeating: 0, count: methods.count)
            for problem in DETESTProblem.all {
                var cells: [String] = []
                for (index, method) in methods.enumerated() {
                    let (error, statistics) = try runDETEST(problem, method: method, tolerance: tolerance)
                    totals[index] += statistics.functionEvaluations
                    cells.append(String(format: "%.1e / %d", error, statistics.functionEvaluations))
                }
                print("| \(problem.name) | " + cells.joined(separator: " | ") + " |")
            }
            print("| total NFE | " + totals.map(String.init).joined(separator: " | ") + " |")
        }
    }
}
