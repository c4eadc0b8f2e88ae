import Foundation
import ODESolvers
import Testing

@Suite("Analytic solutions")
struct AnalyticSolutionTests {
    @Test("exponential decay in Double, forwards and backwards", arguments: allMethods)
    func exponentialDecay(method: ODEMethod) throws {
        let options = ODESolverOptions(
            relativeTolerance: 1e-8, absoluteTolerance: 1e-10, fixedGrid: .stepSize(0.01))
        let forwardTimes = [0, 0.5, 1.3, 2]
        let forward = try odeint(
            { _, y in StateVector<Double>([-y[0]]) }, [1.0], at: forwardTimes, method: method,
            options: options)
        // Backwards: start from y(2) = e^-2 and integrate to t = 0.
        let backwardTimes = [2, 1.3, 0.5, 0]
        let backward = try odeint(
            { _, y in StateVector<Double>([-y[0]]) }, [exp(-2.0)], at: backwardTimes,
            method: method, options: options)

        // Euler's global error at h = 0.01 is about 2e-3; the rest are far more accurate.
        let tolerance = method == .euler ? 5e-3 : 1e-5
        #expect(forward.times == forwardTimes)
        #expect(backward.times == backwardTimes)
        for (time, state) in zip(forward.times, forward.states) {
            #expect(abs(state[0] - exp(-time)) < tolerance, "forward t = \(time)")
        }
        for (time, state) in zip(backward.times, backward.states) {
            #expect(abs(state[0] - exp(-time)) < tolerance * exp(2.0), "backward t = \(time)")
        }
    }

    @Test("harmonic oscillator in Float keeps phase over one period", arguments: adaptiveMethods)
    func harmonicOscillatorFloat(method: ODEMethod) throws {
        let period = 2 * Double.pi
        let times = evenlySpacedTimes(from: 0, to: period, count: 9)
        let solution = try odeint(
            { _, y in StateVector<Float>([y[1], -y[0]]) }, [1, 0], at: times, method: method,
            options: tolerances(relative: 1e-5, absolute: 1e-6))
        // Float rounding and rtol = 1e-5 over roughly 50-500 steps. Fehlberg's estimate
        // h/512 (k3 - k1) understates the error of the propagated second-order solution at
        // these step sizes, so its global error is about ten times larger.
        let allowed = method == .fehlberg2 ? 2e-2 : 2e-3
        for (time, state) in zip(solution.times, solution.states) {
            let error = maximumAbsoluteDifference(state, [cos(time), -sin(time)])
            #expect(error < allowed, "\(method.name) t = \(time): error \(error)")
        }
    }

    @Test("harmonic oscillator in Double backwards in time", arguments: adaptiveMethods)
    func harmonicOscillatorBackwards(method: ODEMethod) throws {
        let times = [3.0, 2.0, 0.5, -1.0]
        let start = [cos(3.0), -sin(3.0)]
        let solution = try odeint(
            { _, y in StateVector<Double>([y[1], -y[0]]) }, StateVector(start), at: times,
            method: method, options: tolerances(relative: 1e-9, absolute: 1e-12))
        for (time, state) in zip(solution.times, solution.states) {
            let error = maximumAbsoluteDifference(state, [cos(time), -sin(time)])
            // Low-order pairs reach rtol 1e-9 only within a factor of about 100 in global error.
            #expect(error < 1e-6, "\(method.name) t = \(time): error \(error)")
        }
    }

    @Test("linear system matches its matrix exponential in Double", arguments: allMethods)
    func linearSystemDouble(method: ODEMethod) throws {
        let times = [0, 0.25, 1, 2.5]
        // Second-order pairs would need about 10^5 steps at rtol 1e-10, so they get 1e-7.
        let isLowOrder = method == .adaptiveHeun || method == .fehlberg2
        let relativeTolerance = isLowOrder ? 1e-7 : 1e-10
        let options = ODESolverOptions(
            relativeTolerance: .scalar(relativeTolerance), absoluteTolerance: 1e-12,
            fixedGrid: .stepSize(1.0 / 512))
        let solution = try odeint(
            LinearTestSystem.dynamics, StateVector<Double>(LinearTestSystem.initialState), at: times,
            method: method, options: options)
        let tolerance: Double =
            switch method {
            case .euler: 5e-3
            case _ where !method.isAdaptive: 1e-5
            case _ where isLowOrder: 1e-4
            default: 1e-7
            }
        for (time, state) in zip(solution.times, solution.states) {
            let error = maximumAbsoluteDifference(state, LinearTestSystem.exactSolution(at: time))
            #expect(error < tolerance, "\(method.name) t = \(time): error \(error)")
        }
    }

    @Test("linear system in Float backwards from t = 1 to t = 0", arguments: adaptiveMethods)
    func linearSystemFloatBackwards(method: ODEMethod) throws {
        let end = LinearTestSystem.exactSolution(at: 1)
        let solution = try odeint(
            LinearTestSystem.dynamics, StateVector<Float>(end.map { Float($0) }), at: [1, 0.5, 0],
            method: method, options: tolerances(relative: 1e-4, absolute: 1e-6))
        // rtol 1e-4 on a system whose backward flow grows by e^2: a few times 1e-4, and ten
        // times more for Fehlberg's weak error estimate.
        let allowed = method == .fehlberg2 ? 5e-2 : 2e-3
        for (time, state) in zip(solution.times, solution.states) {
            let error = maximumAbsoluteDifference(state, LinearTestSystem.exactSolution(at: time))
            #expect(error < allowed, "\(method.name) t = \(time): error \(error)")
        }
    }
}
