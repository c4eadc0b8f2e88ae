import Foundation
import ODESolvers
import Testing

@Suite("Events")
struct EventTests {
    static let gravity = 9.81
    static let dropHeight = 10.0
    /// The ball dropped from rest at height 10 reaches the ground at sqrt(2 h / g).
    static let impactTime = (2 * dropHeight / gravity).squareRoot()

    static func fallingBall(_ t: Double, _ y: StateVector<Double>) -> StateVector<Double> {
        [y[1], -gravity]
    }

    @Test("a falling ball stops the solve when it hits the ground", arguments: allMethods)
    func fallingBallHitsGround(method: ODEMethod) throws {
        let ground = ODEEvent<StateVector<Double>>(direction: .decreasing) { _, y in y[0] }
        let solution = try odeint(
            Self.fallingBall, [Self.dropHeight, 0], at: [0, 0.5, 1, 2, 3], method: method,
            options: ODESolverOptions(fixedGrid: .stepSize(0.01)), until: ground)
        let event = try #require(solution.event, "\(method.name): no event")
        // The motion is quadratic in t, which every method and interpolant of order 2 or more
        // reproduces exactly; Euler's trajectory is off by O(h).
        let tolerance = method == .euler ? 0.05 : 1e-9
        #expect(abs(event.time - Self.impactTime) < tolerance, "\(method.name): t = \(event.time)")
        #expect(abs(event.state[1] + Self.gravity * Self.impactTime) < tolerance * Self.gravity * 2)
        #expect(event.value <= 0)
        #expect(abs(event.value) < 1e-6)
        #expect(solution.times == [0, 0.5, 1], "\(method.name): outputs after the event were returned")
        #expect(solution.states.count == 3)
    }

    @Test("an event of the other direction does not stop the solve")
    func directionFilter() throws {
        let rising = ODEEvent<StateVector<Double>>(direction: .increasing) { _, y in y[0] }
        let solution = try odeint(Self.fallingBall, [Self.dropHeight, 0], at: [0, 3], until: rising)
        #expect(solution.event == nil)
        #expect(solution.times == [0, 3])
        #expect(abs(solution.states[1][0] - (Self.dropHeight - Self.gravity * 4.5)) < 1e-9)
    }

    @Test("a zero at the initial time does not fire")
    func zeroAtStart() throws {
        // Thrown upwards from the ground: the height is zero at t = 0 and again at t = 2 v0 / g.
        let ground = ODEEvent<StateVector<Double>>(direction: .decreasing) { _, y in y[0] }
        let solution = try odeint(Self.fallingBall, [0, 5], at: [0, 3], until: ground)
        let event = try #require(solution.event)
        #expect(abs(event.time - 2 * 5 / Self.gravity) < 1e-9)
    }

    @Test("events are located on backward solves in the direction of integration")
    func backwardEvent() throws {
        // y = e^-t integrated from t = 2 down to 0 crosses 0.5 at t = ln 2, increasing.
        let half = ODEEvent<StateVector<Double>>(direction: .increasing) { _, y in y[0] - 0.5 }
        let solution = try odeint(
            { _, y in StateVector<Double>([-y[0]]) }, [exp(-2.0)], at: [2, 1.5, 1, 0.5, 0],
            options: tolerances(relative: 1e-10, absolute: 1e-12), until: half)
        let event = try #require(solution.event)
        #expect(abs(event.time - log(2.0)) < 1e-9)
        #expect(abs(event.state[0] - 0.5) < 1e-9)
        #expect(solution.times == [2, 1.5, 1])
    }

    @Test("the event time is located to the requested tolerance on a nonlinear crossing")
    func locationTolerance() throws {
        // y = sin t crosses cos t at t = π/4; the solver state is (sin t, cos t).
        for timeTolerance in [1e-4, 1e-8, 1e-12] {
            let crossing = ODEEvent<StateVector<Double>>(timeTolerance: timeTolerance) { _, y in y[0] - y[1] }
            let solution = try odeint(
                { _, y in StateVector<Double>([y[1], -y[0]]) }, [0, 1], at: [0, 2],
                options: tolerances(relative: 1e-12, absolute: 1e-14), until: crossing)
            let event = try #require(solution.event)
            #expect(abs(event.time - Double.pi / 4) < timeTolerance + 1e-11, "tolerance \(timeTolerance)")
            #expect(event.time >= Double.pi / 4 - 1e-11, "the event time lies before the crossing")
        }
    }
}
