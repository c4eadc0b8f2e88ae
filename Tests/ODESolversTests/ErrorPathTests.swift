import Foundation
import ODESolvers
import Testing

/// Solves `y' = -y` from `y0 = 1` and returns the error and how often the dynamics ran.
func solveDecay(
    times: [Double],
    initialState: StateVector<Double> = [1],
    method: ODEMethod = .dopri5,
    options: ODESolverOptions = ODESolverOptions(),
    event: ODEEvent<StateVector<Double>>? = nil
) -> (error: ODESolveError?, evaluations: Int) {
    let log = EvaluationLog()
    do {
        _ = try odeint(
            { t, y in
                log.record(t)
                return StateVector<Double>([-y[0]])
            }, initialState, at: times, method: method, options: options, until: event)
        return (nil, log.times.count)
    } catch {
        return (error, log.times.count)
    }
}

/// `y' = y²` from `y(0) = 1`, whose solution `1 / (1 - t)` blows up at `t = 1`.
func blowUp(_ t: Double, _ y: StateVector<Double>) -> StateVector<Double> {
    [y[0] * y[0]]
}

@Suite("Error paths")
struct ErrorPathTests {
    @Test("an empty list of times is rejected before any evaluation")
    func emptyTimes() throws {
        let (error, evaluations) = solveDecay(times: [])
        guard case .emptyTimes = try #require(error) else {
            Issue.record("expected emptyTimes, got \(String(describing: error))")
            return
        }
        #expect(evaluations == 0)
    }

    @Test("non-finite times are rejected with their index", arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteTime(value: Double) throws {
        let (error, evaluations) = solveDecay(times: [0, value, 2])
        guard case .nonFiniteTime(let index, _) = try #require(error) else {
            Issue.record("expected nonFiniteTime, got \(String(describing: error))")
            return
        }
        #expect(index == 1)
        #expect(evaluations == 0)
    }

    @Test("repeated or unsorted times are rejected at the offending index",
          arguments: [([0, 1, 1], 2), ([0, 2, 1], 2), ([3, 2, 2.5], 2), ([0, 0], 1)])
    func unsortedTimes(times: [Double], expectedIndex: Int) throws {
        let (error, evaluations) = solveDecay(times: times)
        guard case .timesNotStrictlyMonotonic(let index, _, _) = try #require(error) else {
            Issue.record("expected timesNotStrictlyMonotonic, got \(String(describing: error))")
            return
        }
        #expect(index == expectedIndex)
        #expect(evaluations == 0)
    }

    @Test("negative and non-finite tolerances are rejected")
    func invalidScalarTolerances() throws {
        for (relative, absolute, name) in [
            (-1e-6, 1e-9, "relativeTolerance"), (1e-6, -.infinity, "absoluteTolerance"),
            (.nan, 1e-9, "relativeTolerance"), (1e-6, .infinity, "absoluteTolerance"),
        ] {
            let (error, evaluations) = solveDecay(
                times: [0, 1], options: tolerances(relative: relative, absolute: absolute))
            guard case .invalidTolerance(let reportedName, let componentIndex, _) = try #require(error) else {
                Issue.record("expected invalidTolerance, got \(String(describing: error))")
                continue
            }
            #expect(reportedName == name)
            #expect(componentIndex == nil)
            #expect(evaluations == 0)
        }
    }

    @Test("per-component tolerances must match the component count and be valid")
    func invalidPerComponentTolerances() throws {
        let wrongCount = solveDecay(
            times: [0, 1], initialState: [1],
            options: ODESolverOptions(absoluteTolerance: .perComponent([1e-9, 1e-9])))
        guard case .toleranceCountMismatch(let name, let count, let scalarCount) = try #require(wrongCount.error)
        else {
            Issue.record("expected toleranceCountMismatch, got \(String(describing: wrongCount.error))")
            return
        }
        #expect(name == "absoluteTolerance")
        #expect(count == 2)
        #expect(scalarCount == 1)
        #expect(wrongCount.evaluations == 0)

        let negative = solveDecay(
            times: [0, 1], initialState: [1, 2, 3],
            options: ODESolverOptions(relativeTolerance: .perComponent([1e-6, -1e-6, 1e-6])))
        guard case .invalidTolerance(_, let componentIndex, let value) = try #require(negative.error) else {
            Issue.record("expected invalidTolerance, got \(String(describing: negative.error))")
            return
        }
        #expect(componentIndex == 1)
        #expect(value == -1e-6)

        let bothZero = solveDecay(
            times: [0, 1], initialState: [1, 2],
            options: ODESolverOptions(relativeTolerance: 0, absoluteTolerance: .perComponent([1e-9, 0])))
        guard case .zeroTolerances(let zeroIndex) = try #require(bothZero.error) else {
            Issue.record("expected zeroTolerances, got \(String(describing: bothZero.error))")
            return
        }
        #expect(zeroIndex == 1)
    }

    @Test("out-of-range options are rejected with the option's name")
    func invalidOptions() throws {
        var cases: [(String, ODEMethod, ODESolverOptions)] = []
        func add(_ name: String, method: ODEMethod = .dopri5, _ change: (inout ODESolverOptions) -> Void) {
            var options = ODESolverOptions()
            change(&options)
            cases.append((name, method, options))
        }
        add("initialStepSize") { $0.initialStepSize = 0 }
        add("initialStepSize") { $0.initialStepSize = -0.1 }
        add("initialStepSize") { $0.initialStepSize = .nan }
        add("maximumStepSize") { $0.maximumStepSize = 0 }
        add("maximumStepSize") { $0.maximumStepSize = .nan }
        add("maximumSteps") { $0.maximumSteps = 0 }
        add("stepSizeController.safetyFactor") { $0.stepSizeController.safetyFactor = 1.5 }
        add("stepSizeController.minimumFactor") { $0.stepSizeController.minimumFactor = 0 }
        add("stepSizeController.maximumFactor") { $0.stepSizeController.maximumFactor = 0.5 }
        add("stepSizeController.minimumFactorAfterAcceptance") {
            $0.stepSizeController.minimumFactorAfterAcceptance = 0
        }
        add("stepSizeController.minimumFactorAfterAcceptance") {
            $0.stepSizeController.minimumFactorAfterAcceptance = 20
        }
        add("stepSizeController.integralGain") {
            $0.stepSizeController.integralGain = 0
            $0.stepSizeController.proportionalGain = 0
        }
        add("adamsBashforthMoulton maximumOrder", method: .adamsBashforthMoulton(maximumOrder: 0)) { _ in }
        add("adamsBashforthMoulton maximumOrder", method: .adamsBashforthMoulton(maximumOrder: 13)) { _ in }
        add("fixedGrid stepSize", method: .rk4) { $0.fixedGrid = .stepSize(0) }
        add("fixedGrid stepSize", method: .rk4) { $0.fixedGrid = .stepSize(.infinity) }
        add("fixedGrid times", method: .rk4) { $0.fixedGrid = .times([0, 0.5]) }
        add("fixedGrid times[2]", method: .rk4) { $0.fixedGrid = .times([0, 0.5, 0.25, 1]) }
        add("jumpTimes[0]") { $0.jumpTimes = [.nan] }
        add("seminorm excludedComponents") { $0.errorNorm = .seminorm(excludedComponents: [0..<2]) }

        for (name, method, options) in cases {
            let (error, evaluations) = solveDecay(times: [0, 1], method: method, options: options)
            guard case .invalidOption(let reportedName, _, _) = try #require(error) else {
                Issue.record("\(name): expected invalidOption, got \(String(describing: error))")
                continue
            }
            #expect(reportedName == name)
            #expect(evaluations == 0, "\(name)")
        }

        let event = ODEEvent<StateVector<Double>>(timeTolerance: 0) { _, y in y[0] - 0.5 }
        let (error, evaluations) = solveDecay(times: [0, 1], event: event)
        guard case .invalidOption(let name, _, _) = try #require(error) else {
            Issue.record("expected invalidOption, got \(String(describing: error))")
            return
        }
        #expect(name == "event timeTolerance")
        #expect(evaluations == 0)
    }

    @Test("a non-finite initial state is rejected before any evaluation")
    func nonFiniteInitialState() throws {
        let (error, evaluations) = solveDecay(times: [0, 1], initialState: [.nan])
        guard case .nonFiniteState(let time, _, let step) = try #require(error) else {
            Issue.record("expected nonFiniteState, got \(String(describing: error))")
            return
        }
        #expect(time == 0)
        #expect(step == 0)
        #expect(evaluations == 0)
    }

    @Test("dynamics that return NaN stop the solve", arguments: allMethods)
    func nonFiniteDerivative(method: ODEMethod) throws {
        do {
            _ = try odeint(
                { t, y in t == 0 ? StateVector<Double>([-y[0]]) : [.nan] }, [1.0], at: [0, 1],
                method: method, options: ODESolverOptions(fixedGrid: .stepSize(0.1)))
            Issue.record("\(method.name): the solve did not fail")
        } catch .nonFiniteDerivative, .nonFiniteState {
            // Expected: fixed-step methods see a non-finite state, adaptive ones give up after
            // repeated rejections.
        } catch {
            Issue.record("\(method.name): unexpected error \(error)")
        }
    }

    @Test("an error thrown by the dynamics is wrapped with the time")
    func dynamicsThrows() throws {
        struct Failure: Error {}
        do {
            _ = try odeint(
                { t, y -> StateVector<Double> in
                    if t > 0.5 { throw Failure() }
                    return [-y[0]]
                }, [1.0], at: [0, 1])
            Issue.record("the solve did not fail")
        } catch .dynamicsFailed(let time, _, let underlying) {
            #expect(time > 0.5)
            #expect(underlying is Failure)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("y' = y² blowing up at t = 1 reaches the step limit", arguments: adaptiveMethods)
    func stepLimitOnBlowUp(method: ODEMethod) throws {
        do {
            _ = try odeint(
                blowUp, [1.0], at: [0, 2], method: method, options: ODESolverOptions(maximumSteps: 50))
            Issue.record("\(method.name): the solve did not fail")
        } catch .stepLimitReached(let limit, let time, _, let endTime) {
            #expect(limit == 50)
            #expect(time < 1)
            #expect(endTime == 2)
        } catch {
            Issue.record("\(method.name): unexpected error \(error)")
        }
    }

    @Test("y' = y² blowing up at t = 1 underflows the step size near 1", arguments: adaptiveMethods)
    func stepSizeUnderflowOnBlowUp(method: ODEMethod) throws {
        do {
            _ = try odeint(blowUp, [1.0], at: [0, 2], method: method)
            Issue.record("\(method.name): the solve did not fail")
        } catch .stepSizeUnderflow(let time, let stepSize, let step) {
            // The numerical solution blows up within its accumulated error of t = 1.
            #expect(abs(time - 1) < 1e-4, "\(method.name): t = \(time)")
            #expect(abs(stepSize) < 1e-12)
            #expect(step > 0)
        } catch {
            Issue.record("\(method.name): unexpected error \(error)")
        }
    }

    @Test("too fine a fixed grid is rejected up front")
    func fixedGridTooFine() throws {
        let (error, evaluations) = solveDecay(
            times: [0, 1], method: .rk4,
            options: ODESolverOptions(maximumSteps: 1000, fixedGrid: .stepSize(1e-9)))
        guard case .stepLimitReached(let limit, _, _, _) = try #require(error) else {
            Issue.record("expected stepLimitReached, got \(String(describing: error))")
            return
        }
        #expect(limit == 1000)
        #expect(evaluations == 0)
    }

    @Test("runtime error descriptions name the time, step size, step and a remedy")
    func descriptionsNameTheContext() {
        let underflow = ODESolveError.stepSizeUnderflow(time: 0.999, stepSize: 1e-16, step: 412)
        #expect(underflow.description.contains("t = 0.999"))
        #expect(underflow.description.contains("1e-16"))
        #expect(underflow.description.contains("step 412"))
        #expect(underflow.description.contains("jumpTimes"))

        let limit = ODESolveError.stepLimitReached(limit: 50, time: 0.5, stepSize: 0.01, endTime: 2)
        #expect(limit.description.contains("50 steps"))
        #expect(limit.description.contains("t = 0.5"))
        #expect(limit.description.contains("0.01"))
        #expect(limit.description.contains("maximumSteps"))

        let state = ODESolveError.nonFiniteState(time: 3, stepSize: 0.25, step: 7)
        #expect(state.description.contains("t = 3.0"))
        #expect(state.description.contains("step 7"))
    }

    @Test("relative tolerances below 10 ulp are rejected", arguments: [1e-300, 1e-16, 2e-15])
    func tinyRelativeTolerance(value: Double) throws {
        let (error, evaluations) = solveDecay(
            times: [0, 1], options: ODESolverOptions(relativeTolerance: .scalar(value), absoluteTolerance: 1e-9))
        guard case .invalidOption(let name, let text, _) = try #require(error) else {
            Issue.record("expected invalidOption, got \(String(describing: error))")
            return
        }
        #expect(name == "relativeTolerance")
        #expect(text == "\(value)")
        #expect(evaluations == 0)
    }

    @Test("relative tolerance of 10 ulp is accepted")
    func smallestRelativeTolerance() {
        let (error, _) = solveDecay(
            times: [0, 0.1], options: ODESolverOptions(relativeTolerance: .scalar(10 * Double.ulpOfOne), absoluteTolerance: 1e-14))
        if let error { Issue.record("expected a solution, got \(error)") }
    }

    @Test("tiny absolute tolerance gives no NaN step")
    func tinyAbsoluteTolerance() throws {
        // Weights of 1e-300 overflow the weighted norms of the state and the derivative, whose
        // ratio set the first step to inf / inf = NaN before the fallback.
        var options = ODESolverOptions(relativeTolerance: 0, absoluteTolerance: 1e-300)
        options.maximumSteps = 200
        let (error, _) = solveDecay(times: [0, 1], options: options)
        let thrown = try #require(error)
        switch thrown {
        case .stepSizeUnderflow(_, let stepSize, _), .stepLimitReached(_, _, let stepSize, _):
            #expect(stepSize.isFinite)
            #expect(stepSize > 0)
        default:
            Issue.record("expected stepSizeUnderflow or stepLimitReached, got \(thrown)")
        }
        #expect(!thrown.description.lowercased().contains("nan"), "\(thrown)")
    }
}
