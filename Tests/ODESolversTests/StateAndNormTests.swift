import Foundation
import ODESolvers
import Testing

/// Returns the solver's weighted norm of `error` for a step from `previous` to `proposal`.
func solverNorm<State: ODEState>(
    error: State, previous: State, proposal: State, relative: ODETolerance, absolute: ODETolerance,
    norm: ErrorNorm
) throws -> Double {
    var accumulator = try ErrorNormAccumulator(
        relativeTolerance: relative, absoluteTolerance: absolute, errorNorm: norm,
        scalarCount: error.scalarCount)
    State.accumulateError(error, previous: previous, proposal: proposal, into: &accumulator)
    return accumulator.norm
}

@Suite("States and error norms")
struct StateAndNormTests {
    @Test("StateVector combinations add scaled terms")
    func stateVectorCombinations() {
        let a: StateVector<Double> = [1, 2]
        let b: StateVector<Double> = [10, 20]
        let c: StateVector<Double> = [100, 200]
        #expect(a.adding([b, c][...], scaledBy: [0.5, -0.01][...]) == [5, 10])
        #expect(StateVector.linearCombination(of: [b, c][...], scaledBy: [2, 0.5][...]) == [70, 140])
        #expect(a.adding([][...], scaledBy: [][...]) == a)
        let float: StateVector<Float> = [1, 2]
        #expect(float.adding([float][...], scaledBy: [0.25][...]) == [1.25, 2.5])
        #expect(!StateVector<Double>([1, .nan]).isFinite)
        #expect(StateVector<Double>([1, 2]).scalarCount == 2)
    }

    @Test("the RMS norm scales each component by atol + rtol * max(|previous|, |proposal|)")
    func rmsNorm() throws {
        // Scales 1 + 0.5 * 2 = 2 and 1 + 0.5 * 4 = 3, so the ratios are 3 and 2.
        let norm = try solverNorm(
            error: StateVector<Double>([6, 6]), previous: [2, -4], proposal: [1, 3],
            relative: 0.5, absolute: 1, norm: .rms)
        #expect(abs(norm - ((9.0 + 4.0) / 2).squareRoot()) < 1e-15)
    }

    @Test("per-component tolerances and the seminorm pick the right components")
    func perComponentAndSeminorm() throws {
        let error: StateVector<Double> = [1, 2, 4]
        let zeros: StateVector<Double> = [0, 0, 0]
        let perComponent = try solverNorm(
            error: error, previous: zeros, proposal: zeros, relative: 0,
            absolute: .perComponent([1, 2, 8]), norm: .rms)
        #expect(abs(perComponent - ((1.0 + 1.0 + 0.25) / 3).squareRoot()) < 1e-15)
        let seminorm = try solverNorm(
            error: error, previous: zeros, proposal: zeros, relative: 0, absolute: 1,
            norm: .seminorm(excludedComponents: [1..<2]))
        #expect(abs(seminorm - ((1.0 + 16.0) / 2).squareRoot()) < 1e-15)
        let everything = try solverNorm(
            error: error, previous: zeros, proposal: zeros, relative: 0, absolute: 1,
            norm: .seminorm(excludedComponents: [0..<3]))
        #expect(everything == 0)
    }

    @Test("a zero scale turns a non-zero error into an infinite norm, not NaN")
    func zeroScale() throws {
        let norm = try solverNorm(
            error: StateVector<Double>([1e-3]), previous: [0], proposal: [0], relative: 1e-6,
            absolute: 0, norm: .rms)
        #expect(norm.isInfinite)
        let noError = try solverNorm(
            error: StateVector<Double>([0]), previous: [0], proposal: [0], relative: 1e-6,
            absolute: 0, norm: .rms)
        #expect(noError == 0)
    }

    @Test("a pair of states integrates like the combined system")
    func pairState() throws {
        // z' = -z and a log-density-like channel l' = z, so l = 1 - e^-t for z(0) = 1.
        typealias Pair = ODEStatePair<StateVector<Double>, StateVector<Float>>
        let solution = try odeint(
            { _, state in Pair(StateVector([-state.first[0]]), StateVector([Float(state.first[0])])) },
            Pair([1], [0]), at: [0, 1, 2], options: tolerances(relative: 1e-8, absolute: 1e-10))
        for (time, state) in zip(solution.times, solution.states) {
            #expect(abs(state.first[0] - exp(-time)) < 1e-7)
            #expect(abs(Double(state.second[0]) - (1 - exp(-time))) < 1e-6)
        }
        #expect(Pair([1, 2], [3]).scalarCount == 3)
    }

    @Test("an array of states integrates part by part")
    func arrayState() throws {
        let start: [StateVector<Double>] = [[1], [2, 3]]
        let solution = try odeint(
            { _, parts in parts.map { StateVector($0.scalars.map { -$0 }) } }, start, at: [0, 1],
            options: tolerances(relative: 1e-9, absolute: 1e-12))
        let end = solution.states[1]
        #expect(abs(end[0][0] - exp(-1.0)) < 1e-8)
        #expect(abs(end[1][1] - 3 * exp(-1.0)) < 1e-8)
        #expect(start.scalarCount == 3)
    }

    @Test("a seminorm keeps a fast channel from limiting the steps")
    func seminormSavesSteps() throws {
        // Component 1 integrates a fast oscillation that nothing else reads, like dL/dθ in the
        // adjoint method. Leaving it out of the norm lets the step follow component 0 alone.
        let dynamics: (Double, StateVector<Double>) -> StateVector<Double> = { t, y in
            [-y[0], 50 * cos(50 * t)]
        }
        var options = tolerances(relative: 1e-8, absolute: 1e-10)
        let full = try odeint(dynamics, [1, 0], at: [0, 2], options: options)
        options.errorNorm = .seminorm(excludedComponents: [1..<2])
        let semi = try odeint(dynamics, [1, 0], at: [0, 2], options: options)
        #expect(semi.statistics.functionEvaluations * 3 < full.statistics.functionEvaluations)
        #expect(abs(semi.states[1][0] - exp(-2.0)) < 1e-7)
        #expect(abs(full.states[1][1] - sin(100.0)) < 1e-6)
    }
}
