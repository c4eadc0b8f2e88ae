import Foundation
import ODESolvers
import Testing

@Suite("Convergence")
struct ConvergenceTests {
    /// Logistic growth `y' = y (1 - y)`, `y(0) = 0.1`, exact `1 / (1 + 9 e^-t)`.
    static func logistic(_ t: Double, _ y: StateVector<Double>) -> StateVector<Double> {
        [y[0] * (1 - y[0])]
    }

    static func logisticExact(_ t: Double) -> Double {
        1 / (1 + 9 * exp(-t))
    }

    static let stepSizes = [0.1, 0.05, 0.025, 0.0125]

    @Test("fixed-step error falls at the declared order as the step halves",
          arguments: fixedStepMethods)
    func fixedStepOrder(method: ODEMethod) throws {
        let tableau = try #require(method.tableau)
        var gridErrors: [Double] = []
        var interpolatedErrors: [Double] = []
        for stepSize in Self.stepSizes {
            // t = 2 is a grid point; t = 1.03 lies between grid points for every step size.
            let solution = try odeint(
                Self.logistic, [0.1], at: [0, 1.03, 2], method: method,
                options: ODESolverOptions(fixedGrid: .stepSize(stepSize)))
            gridErrors.append(abs(solution.states[2][0] - Self.logisticExact(2)))
            interpolatedErrors.append(abs(solution.states[1][0] - Self.logisticExact(1.03)))
        }
        let slope = logLogSlope(x: Self.stepSizes, y: gridErrors)
        // A fitted slope within 0.2 of the order; the error constants change little here.
        #expect(abs(slope - Double(tableau.order)) < 0.2, "\(tableau.name): fitted order \(slope)")
        // Cubic Hermite interpolation between grid points keeps the method's order.
        let interpolatedSlope = logLogSlope(x: Self.stepSizes, y: interpolatedErrors)
        #expect(
            interpolatedSlope > Double(tableau.order) - 0.3,
            "\(tableau.name): interpolated order \(interpolatedSlope)")
    }

    @Test("linear-system error at a grid point falls at the declared order", arguments: fixedStepMethods)
    func fixedStepOrderOnLinearSystem(method: ODEMethod) throws {
        let tableau = try #require(method.tableau)
        var errors: [Double] = []
        for stepSize in Self.stepSizes {
            let solution = try odeint(
                LinearTestSystem.dynamics, StateVector<Double>(LinearTestSystem.initialState),
                at: [0, 1], method: method, options: ODESolverOptions(fixedGrid: .stepSize(stepSize)))
            errors.append(maximumAbsoluteDifference(solution.states[1], LinearTestSystem.exactSolution(at: 1)))
        }
        let slope = logLogSlope(x: Self.stepSizes, y: errors)
        #expect(abs(slope - Double(tableau.order)) < 0.2, "\(tableau.name): fitted order \(slope)")
    }

    @Test("adaptive error shrinks as rtol goes from 1e-3 to 1e-10", arguments: adaptiveMethods)
    func adaptiveErrorFallsWithTolerance(method: ODEMethod) throws {
        let tolerances = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
        // The 2(1) pairs control the error of their first-order solution, so rtol 1e-10 needs
        // steps near 1e-5 (about 70 000 for Heun–Euler on a unit interval). Higher orders get
        // a longer interval, on which even rtol 1e-3 needs several steps.
        let isLowOrder = method == .adaptiveHeun || method == .fehlberg2
        let end = isLowOrder ? 1.0 : 10.0
        var errors: [Double] = []
        for relativeTolerance in tolerances {
            let solution = try odeint(
                { _, y in StateVector<Double>([y[1], -y[0]]) }, [1, 0], at: [0, end], method: method,
                options: ODESolverOptions(
                    relativeTolerance: .scalar(relativeTolerance),
                    absoluteTolerance: .scalar(relativeTolerance * 1e-3), maximumSteps: 200_000))
            errors.append(maximumAbsoluteDifference(solution.states[1], [cos(end), -sin(end)]))
        }
        // Each tenfold tightening may be lucky or unlucky by a small factor, so compare
        // every tolerance with the ones two decades looser, and the ends of the range.
        for index in 2..<errors.count {
            #expect(
                errors[index] < errors[index - 2],
                "\(method.name): error \(errors[index]) at rtol \(tolerances[index]) vs \(errors[index - 2])")
        }
        #expect(errors.last! < 1e-4 * errors.first!, "\(method.name): errors \(errors)")
    }

    @Test("adaptive error in Float shrinks from rtol 1e-3 to 1e-5", arguments: adaptiveMethods)
    func adaptiveFloatErrorFallsWithTolerance(method: ODEMethod) throws {
        var errors: [Double] = []
        for relativeTolerance in [1e-3, 1e-5] {
            let solution = try odeint(
                { _, y in StateVector<Float>([y[1], -y[0]]) }, [1, 0], at: [0, 4], method: method,
                options: tolerances(relative: relativeTolerance, absolute: relativeTolerance * 1e-2))
            errors.append(maximumAbsoluteDifference(solution.states[1], [cos(4.0), -sin(4.0)]))
        }
        #expect(errors[1] < errors[0], "\(method.name): errors \(errors)")
    }
}
