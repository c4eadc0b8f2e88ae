import Foundation
import ODESolvers
import Testing

@Suite("Step-size control")
struct StepControlTests {
    static func oscillator(_ t: Double, _ y: StateVector<Double>) -> StateVector<Double> {
        [y[1], -y[0]]
    }

    @Test("no step exceeds the maximum step size", arguments: adaptiveMethods)
    func maximumStepSize(method: ODEMethod) throws {
        let collector = ReportCollector()
        _ = try odeint(
            Self.oscillator, [1, 0], at: [0, 3], method: method,
            options: ODESolverOptions(
                relativeTolerance: 1e-3, absoluteTolerance: 1e-6, maximumStepSize: 0.1,
                stepObserver: { collector.add($0) }))
        let sizes = collector.reports.map(\.stepSize)
        #expect(sizes.allSatisfy { $0 <= 0.1 + 1e-15 }, "\(method.name): largest step \(sizes.max() ?? 0)")
        #expect(sizes.count >= 30)
    }

    @Test("a given initial step size is the first step tried")
    func initialStepSize() throws {
        let collector = ReportCollector()
        let solution = try odeint(
            Self.oscillator, [1, 0], at: [0, 1],
            options: ODESolverOptions(initialStepSize: 0.015625, stepObserver: { collector.add($0) }))
        #expect(collector.reports.first?.stepSize == 0.015625)
        // No evaluation for the automatic rule: f0 plus six per attempt.
        #expect(solution.statistics.functionEvaluations == 1 + 6 * solution.statistics.attemptedSteps)
    }

    @Test("next step size continues a solve", arguments: adaptiveRungeKuttaMethods)
    func nextStepSize(method: ODEMethod) throws {
        let options = tolerances(relative: 1e-7, absolute: 1e-9)
        let first = try odeint(Self.oscillator, [1, 0], at: [0, 2], method: method, options: options)
        let next = try #require(first.nextStepSize, "\(method.name)")
        #expect(next > 0)
        #expect(next.isFinite)

        let collector = ReportCollector()
        var continued = options
        continued.initialStepSize = next
        continued.stepObserver = { collector.add($0) }
        let second = try odeint(Self.oscillator, first.states[1], at: [2, 4], method: method, options: continued)
        // The reported step is (t + h) - t, which rounds in the last bits.
        let firstStep = try #require(collector.reports.first?.stepSize)
        #expect(abs(firstStep - next) <= 1e-12 * next, "\(method.name): \(firstStep) vs \(next)")
        #expect(maximumAbsoluteDifference(second.states[1], [cos(4.0), -sin(4.0)]) < 1e-4, "\(method.name)")
    }

    @Test("fixed grids and Adams propose no next step")
    func noNextStepSize() throws {
        let options = ODESolverOptions(fixedGrid: .stepSize(0.1))
        let fixed = try odeint(Self.oscillator, [1, 0], at: [0, 1], method: .rk4, options: options)
        #expect(fixed.nextStepSize == nil)
        let adams = try odeint(Self.oscillator, [1, 0], at: [0, 1], method: .adams)
        #expect(adams.nextStepSize == nil)
    }

    @Test("the first step of a short interval is clamped to the interval")
    func firstStepClamped() throws {
        let collector = ReportCollector()
        _ = try odeint(
            Self.oscillator, [1, 0], at: [0, 1e-3],
            options: ODESolverOptions(initialStepSize: 5, stepObserver: { collector.add($0) }))
        #expect(collector.reports.first?.stepSize == 1e-3)
        #expect(collector.reports.count == 1)
    }

    @Test("the PI controller reaches the same accuracy as the integral one")
    func proportionalIntegralController() throws {
        let plain = try odeint(
            Self.oscillator, [1, 0], at: [0, 20], options: tolerances(relative: 1e-8, absolute: 1e-10))
        var options = tolerances(relative: 1e-8, absolute: 1e-10)
        options.stepSizeController = .proportionalIntegral
        let pi = try odeint(Self.oscillator, [1, 0], at: [0, 20], options: options)
        let plainError = maximumAbsoluteDifference(plain.states[1], [cos(20.0), -sin(20.0)])
        let piError = maximumAbsoluteDifference(pi.states[1], [cos(20.0), -sin(20.0)])
        #expect(piError < 1e-6)
        #expect(plainError < 1e-6)
        // Similar cost: the two controllers differ in how smoothly they change the step.
        let ratio = Double(pi.statistics.functionEvaluations) / Double(plain.statistics.functionEvaluations)
        #expect(ratio > 0.7, "NFE ratio \(ratio)")
        #expect(ratio < 1.4, "NFE ratio \(ratio)")
    }

    @Test("a single time returns the initial state without evaluating the dynamics")
    func singleTime() throws {
        let (error, evaluations) = solveDecay(times: [3])
        #expect(error == nil)
        #expect(evaluations == 0)
        let solution = try odeint({ _, y in StateVector<Double>([-y[0]]) }, [2.0], at: [3])
        #expect(solution.states == [[2]])
        #expect(solution.statistics == ODEStatistics())
    }
}

@Suite("Documentation examples")
struct DocumentationExampleTests {
    @Test("the quick example of docs/solvers.md runs")
    func quickExample() throws {
        let y0: StateVector<Double> = [1, 0]
        let solution = try odeint(
            { _, y in [y[1], -y[0]] }, y0, at: [0, 0.5, 1], method: .dopri5,
            options: ODESolverOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-9))
        #expect(abs(solution.states[2][0] - cos(1.0)) < 1e-6)
        #expect(abs(solution.states[2][1] + sin(1.0)) < 1e-6)
    }

    @Test("only the default controller shrinks accepted steps")
    func acceptedStepsDoNotShrink() throws {
        // Van der Pol changes its time scale often, so SciPy's rule shrinks accepted steps.
        let problem = try #require(ComparisonProblem.all.first { $0.name == "vanDerPol" })
        func shrinkingSteps(_ controller: StepSizeController) throws -> Int {
            let collector = ReportCollector()
            var options = tolerances(relative: 1e-6, absolute: 1e-9)
            options.stepSizeController = controller
            options.stepObserver = { collector.add($0) }
            _ = try odeint(
                problem.dynamics, StateVector(problem.initialState), at: [0, problem.endTime],
                method: .dopri5, options: options)
            let reports = collector.reports
            var count = 0
            // The last step is cut to end on the final time, so it is left out.
            for index in 1..<(reports.count - 1) {
                let previous = reports[index - 1]
                let current = reports[index]
                let rejectedBetween = current.statistics.rejectedSteps > previous.statistics.rejectedSteps
                if !rejectedBetween && abs(current.stepSize) < abs(previous.stepSize) * (1 - 1e-12) {
                    count += 1
                }
            }
            return count
        }
        #expect(try shrinkingSteps(.nonShrinking) == 0)
        #expect(try shrinkingSteps(.integral) > 10)
    }
}
