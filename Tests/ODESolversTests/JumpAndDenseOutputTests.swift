import Foundation
import ODESolvers
import Testing

@Suite("Jump times, dense output and the integration interval")
struct JumpAndDenseOutputTests {
    /// `y' = 1` before t = 1 and `y' = -1` after, so `y = t` then `2 - t`.
    static func switchingSlope(_ t: Double, _ y: StateVector<Double>) -> StateVector<Double> {
        [t < 1 ? 1 : -1]
    }

    @Test("steps land on a jump time and the solution stays exact across it", arguments: allMethods)
    func jumpTimeIsHitExactly(method: ODEMethod) throws {
        let log = EvaluationLog()
        let solution = try odeint(
            { t, y in
                log.record(t)
                return Self.switchingSlope(t, y)
            }, StateVector<Double>([0]), at: [0, 0.5, 1, 1.5, 2], method: method,
            options: ODESolverOptions(fixedGrid: .stepSize(0.3), jumpTimes: [1, 5, -1]))
        // Piecewise linear, so every method integrates each piece exactly.
        for (time, state) in zip(solution.times, solution.states) {
            let exact = time <= 1 ? time : 2 - time
            #expect(abs(state[0] - exact) < 1e-12, "\(method.name) t = \(time): \(state[0])")
        }
        #expect(!log.times.contains(1), "\(method.name) evaluated the dynamics at the jump itself")
        #expect(log.times.contains(1.0.nextUp))
        // A stage at the step's end (node 1, or Adams' corrector) is evaluated just before it.
        if method.tableau?.nodes.contains(1) ?? true {
            #expect(log.times.contains(1.0.nextDown))
        }
        #expect(solution.statistics.rejectedSteps == 0)
    }

    @Test("jump times work on backward solves", arguments: [ODEMethod.rk4, .dopri5, .dopri8, .adams])
    func jumpTimeBackwards(method: ODEMethod) throws {
        let log = EvaluationLog()
        let solution = try odeint(
            { t, y in
                log.record(t)
                return Self.switchingSlope(t, y)
            }, StateVector<Double>([0]), at: [2, 1, 0.5, 0], method: method,
            options: ODESolverOptions(fixedGrid: .stepSize(0.3), jumpTimes: [1]))
        // From y(2) = 0 backwards: y = 2 - t down to t = 1, then y = t.
        for (time, state) in zip(solution.times, solution.states) {
            let exact = time >= 1 ? 2 - time : time
            #expect(abs(state[0] - exact) < 1e-12, "\(method.name) t = \(time): \(state[0])")
        }
        #expect(!log.times.contains(1))
        #expect(log.times.contains(1.0.nextDown))
    }

    @Test("declaring a jump saves the rejections that the discontinuity otherwise causes")
    func jumpTimesSaveRejections() throws {
        // y' = -y with a kink in the forcing at t = 1.3.
        let dynamics: (Double, StateVector<Double>) -> StateVector<Double> = { t, y in
            [-y[0] + (t < 1.3 ? 0 : 5)]
        }
        let options = tolerances(relative: 1e-8, absolute: 1e-10)
        var withJump = options
        withJump.jumpTimes = [1.3]
        let plain = try odeint(dynamics, [1.0], at: [0, 3], options: options)
        let declared = try odeint(dynamics, [1.0], at: [0, 3], options: withJump)
        let exact = exp(-3.0) + 5 * (1 - exp(-(3 - 1.3)))
        #expect(abs(declared.states[1][0] - exact) < 1e-7)
        #expect(declared.statistics.rejectedSteps < plain.statistics.rejectedSteps)
    }

    @Test("the dynamics are never evaluated outside the interval", arguments: allMethods)
    func evaluationsStayInside(method: ODEMethod) throws {
        for times in [[0.1, 0.37, 0.9], [0.9, 0.55, 0.1]] {
            let log = EvaluationLog()
            let ground = ODEEvent<StateVector<Double>> { _, y in y[0] - 10 }  // never fires
            // A first step far larger than the interval must be clamped to it.
            let solution = try odeint(
                { t, y in
                    log.record(t)
                    return StateVector<Double>([y[1], -y[0]])
                }, StateVector<Double>([1, 0]), at: times, method: method,
                options: ODESolverOptions(
                    initialStepSize: method.isAdaptive ? 10 : nil, fixedGrid: .stepSize(0.07),
                    jumpTimes: [0.5]),
                until: ground)
            #expect(solution.times == times)
            let lower = times.min()!
            let upper = times.max()!
            for time in log.times {
                #expect(time >= lower, "\(method.name): evaluated at t = \(time)")
                #expect(time <= upper, "\(method.name): evaluated at t = \(time)")
            }
        }
    }

    @Test("dense output between steps is accurate to about the tolerance", arguments: adaptiveMethods)
    func denseOutputAccuracy(method: ODEMethod) throws {
        let times = evenlySpacedTimes(from: 0, to: 10, count: 301)
        let solution = try odeint(
            { _, y in StateVector<Double>([y[1], -y[0]]) }, [1, 0], at: times, method: method,
            options: tolerances(relative: 1e-8, absolute: 1e-10))
        let isLowOrder = method == .adaptiveHeun || method == .fehlberg2
        var largest = 0.0
        for (time, state) in zip(solution.times, solution.states) {
            largest = max(largest, maximumAbsoluteDifference(state, [cos(time), -sin(time)]))
        }
        // Global error over 10 time units at rtol 1e-8, with the weak estimates of the
        // second-order pairs a hundred times larger.
        #expect(largest < (isLowOrder ? 1e-4 : 1e-6), "\(method.name): largest error \(largest)")
    }

    @Test("requesting many output times does not change the steps", arguments: adaptiveMethods)
    func outputsDoNotChangeSteps(method: ODEMethod) throws {
        let dynamics: (Double, StateVector<Double>) -> StateVector<Double> = { _, y in [y[1], -y[0]] }
        let options = tolerances(relative: 1e-6, absolute: 1e-9)
        let endpoints = try odeint(dynamics, [1, 0], at: [0, 10], method: method, options: options)
        let many = try odeint(
            dynamics, [1, 0], at: evenlySpacedTimes(from: 0, to: 10, count: 101), method: method,
            options: options)
        #expect(many.statistics.acceptedSteps == endpoints.statistics.acceptedSteps)
        #expect(many.statistics.rejectedSteps == endpoints.statistics.rejectedSteps)
        #expect(abs(many.states[100][0] - endpoints.states[1][0]) < 1e-15)
        if method == .dopri8 {
            // The extra stages cost three evaluations in each interpolated step.
            #expect(many.statistics.functionEvaluations > endpoints.statistics.functionEvaluations)
        } else if method != .fehlberg2 && method != .adaptiveHeun {
            #expect(many.statistics.functionEvaluations == endpoints.statistics.functionEvaluations)
        }
    }

    @Test("fixed-grid outputs on the grid come from steps, those between from interpolation")
    func fixedGridSnapsOutputs() throws {
        // 0.3 is not a multiple of 0.1 in binary; the grid point snaps onto it.
        let log = EvaluationLog()
        let solution = try odeint(
            { t, y in
                log.record(t)
                return StateVector<Double>([-y[0]])
            }, StateVector<Double>([1]), at: [0, 0.3, 0.35, 1], method: .rk4,
            options: ODESolverOptions(fixedGrid: .stepSize(0.1)))
        #expect(solution.statistics.acceptedSteps == 10)
        #expect(log.times.contains(0.3))
        #expect(abs(solution.states[1][0] - exp(-0.3)) < 1e-6)
        #expect(abs(solution.states[2][0] - exp(-0.35)) < 1e-6)
    }

    @Test("an explicit fixed grid is followed step by step")
    func explicitGrid() throws {
        let grid = [0, 0.1, 0.15, 0.6, 1]
        var reports: [Double] = []
        let collector = ReportCollector()
        let solution = try odeint(
            { _, y in StateVector<Double>([-y[0]]) }, [1.0], at: [0, 1], method: .midpoint,
            options: ODESolverOptions(fixedGrid: .times(grid), stepObserver: { collector.add($0) }))
        reports = collector.reports.map(\.time)
        #expect(reports == Array(grid.dropFirst()))
        #expect(solution.statistics.acceptedSteps == 4)
    }

    @Test("the step observer sees every accepted step with running statistics")
    func stepObserver() throws {
        let collector = ReportCollector()
        let solution = try odeint(
            { _, y in StateVector<Double>([y[1], -y[0]]) }, [1, 0], at: [0, 5],
            options: ODESolverOptions(stepObserver: { collector.add($0) }))
        let reports = collector.reports
        #expect(reports.count == solution.statistics.acceptedSteps)
        #expect(reports.last?.time == 5)
        #expect(reports.last?.statistics == solution.statistics)
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.time < $1.time })
        #expect(reports.allSatisfy { $0.order == 5 })
    }
}

/// Collects step reports from a `@Sendable` observer.
final class ReportCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [ODEStepReport] = []

    func add(_ report: ODEStepReport) {
        lock.lock()
        storage.append(report)
        lock.unlock()
    }

    var reports: [ODEStepReport] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
