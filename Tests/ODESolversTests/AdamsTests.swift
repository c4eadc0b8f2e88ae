import Foundation
import ODESolvers
import Testing

@Suite("Adams–Bashforth–Moulton")
struct AdamsTests {
    @Test("order rises and stays within the maximum",
          arguments: [1, 4, 12])
    func orderSelection(maximumOrder: Int) throws {
        // Order 1 controls a first-order estimate, so rtol 1e-9 would take 10^6 steps.
        let relativeTolerance = maximumOrder == 1 ? 1e-5 : 1e-9
        let collector = ReportCollector()
        let solution = try odeint(
            { _, y in StateVector<Double>([y[1], -y[0]]) }, [1, 0], at: [0, 20],
            method: .adamsBashforthMoulton(maximumOrder: maximumOrder),
            options: ODESolverOptions(
                relativeTolerance: .scalar(relativeTolerance), absoluteTolerance: 1e-12,
                stepObserver: { collector.add($0) }))
        let orders = collector.reports.map(\.order)
        #expect(orders.max()! <= maximumOrder)
        if maximumOrder > 4 {
            #expect(orders.max()! >= 6, "orders used: \(Set(orders).sorted())")
        }
        let error = maximumAbsoluteDifference(solution.states[1], [cos(20.0), -sin(20.0)])
        // Global error over about three periods.
        #expect(error < relativeTolerance * 1e3, "maximum order \(maximumOrder): error \(error)")
    }

    @Test("a rejected step costs one evaluation and an accepted step two")
    func evaluationCount() throws {
        let solution = try odeint(
            { _, y in StateVector<Double>([y[1], -y[0]]) }, [1, 0], at: [0, 10], method: .adams,
            options: tolerances(relative: 1e-8, absolute: 1e-10))
        let statistics = solution.statistics
        // One evaluation at the start and one for the initial step size.
        #expect(
            statistics.functionEvaluations
                == 2 + 2 * statistics.acceptedSteps + statistics.rejectedSteps)
    }

    @Test("high orders need far fewer evaluations than dopri5 at tight tolerances")
    func efficiencyAtTightTolerance() throws {
        let options = tolerances(relative: 1e-10, absolute: 1e-12)
        let dynamics: (Double, StateVector<Double>) -> StateVector<Double> = { _, y in [y[1], -y[0]] }
        let adams = try odeint(dynamics, [1, 0], at: [0, 20], method: .adams, options: options)
        let dopri5 = try odeint(dynamics, [1, 0], at: [0, 20], method: .dopri5, options: options)
        #expect(adams.statistics.functionEvaluations < dopri5.statistics.functionEvaluations)
    }

    @Test("the history restarts at a jump time")
    func restartAtJump() throws {
        let collector = ReportCollector()
        let solution = try odeint(
            { t, y in StateVector<Double>([t < 2 ? -y[0] : y[0]]) }, [1.0], at: [0, 2, 3],
            method: .adams,
            options: ODESolverOptions(
                relativeTolerance: 1e-9, absoluteTolerance: 1e-12, jumpTimes: [2],
                stepObserver: { collector.add($0) }))
        let exact = exp(-2.0) * exp(1.0)
        #expect(abs(solution.states[2][0] - exact) < 1e-8)
        let firstAfterJump = try #require(collector.reports.first { $0.time > 2 })
        #expect(firstAfterJump.order <= 2, "order \(firstAfterJump.order) right after the restart")
    }

    @Test("dense output inside Adams steps matches the exact solution")
    func denseOutput() throws {
        let times = evenlySpacedTimes(from: 0, to: 6, count: 241)
        let solution = try odeint(
            { _, y in StateVector<Double>([y[1], -y[0]]) }, [1, 0], at: times, method: .adams,
            options: tolerances(relative: 1e-10, absolute: 1e-12))
        var largest = 0.0
        for (time, state) in zip(solution.times, solution.states) {
            largest = max(largest, maximumAbsoluteDifference(state, [cos(time), -sin(time)]))
        }
        #expect(largest < 1e-7, "largest dense-output error \(largest)")
    }
}
