import Foundation
import ODESolvers
import Testing

/// A non-stiff DETEST problem on `[0, 20]` with its reference value `y(20)`.
///
/// Problems from T. E. Hull, W. H. Enright, B. M. Fellen and A. E. Sedgwick, "Comparing
/// numerical methods for ordinary differential equations", SIAM J. Numer. Anal. 9(4),
/// 603–637 (1972), classes A–E (C2–C5 and the class-F-like problems are left out). Reference
/// values come from `Reference/detest_reference_values.py`: closed forms where they exist
/// (A1–A5, B2, B5, C1, D1–D5, E1, E4, E5) and a 30-digit Taylor integration otherwise.
struct DETESTProblem: Sendable, CustomTestStringConvertible {
    let name: String
    let initialState: [Double]
    let reference: [Double]
    let dynamics: @Sendable (Double, StateVector<Double>) -> StateVector<Double>

    static let endTime = 20.0

    var testDescription: String { name }

    static func orbit(_ name: String, eccentricity e: Double, reference: [Double]) -> DETESTProblem {
        DETESTProblem(
            name: name, initialState: [1 - e, 0, 0, ((1 + e) / (1 - e)).squareRoot()],
            reference: reference
        ) { _, y in
            let r3 = pow(y[0] * y[0] + y[1] * y[1], 1.5)
            return [y[2], y[3], -y[0] / r3, -y[1] / r3]
        }
    }

    static let all: [DETESTProblem] = [
        // Class A: single equations.
        DETESTProblem(name: "A1", initialState: [1], reference: [2.0611536224385578e-9]) { _, y in
            [-y[0]]
        },
        DETESTProblem(name: "A2", initialState: [1], reference: [0.21821789023599238]) { _, y in
            [-y[0] * y[0] * y[0] / 2]
        },
        DETESTProblem(name: "A3", initialState: [1], reference: [2.4916502718504145]) { t, y in
            [y[0] * cos(t)]
        },
        DETESTProblem(name: "A4", initialState: [1], reference: [17.73016648131484]) { _, y in
            [y[0] / 4 * (1 - y[0] / 20)]
        },
        DETESTProblem(name: "A5", initialState: [4], reference: [-0.78878266889640142]) { t, y in
            [(y[0] - t) / (y[0] + t)]
        },
        // Class B: small systems.
        DETESTProblem(
            name: "B1", initialState: [1, 3], reference: [0.67618760085766066, 0.18608160996400298]
        ) { _, y in
            [2 * (y[0] - y[0] * y[1]), -(y[1] - y[0] * y[1])]
        },
        DETESTProblem(
            name: "B2", initialState: [2, 0, 1],
            reference: [1.0000000010305768, 1.0, 0.99999999896942319]
        ) { _, y in
            [-y[0] + y[1], y[0] - 2 * y[1] + y[2], y[1] - y[2]]
        },
        DETESTProblem(
            name: "B3", initialState: [1, 0, 0],
            reference: [2.0611536224385578e-9, 0.052572280220485125, 0.94742771771836125]
        ) { _, y in
            [-y[0], y[0] - y[1] * y[1], y[1] * y[1]]
        },
        DETESTProblem(
            name: "B4", initialState: [3, 0, 0],
            reference: [0.98269509280065305, 2.1984470816949297, 0.91294525072762765]
        ) { _, y in
            let r = (y[0] * y[0] + y[1] * y[1]).squareRoot()
            return [-y[1] - y[0] * y[2] / r, y[0] - y[1] * y[2] / r, y[0] / r]
        },
        DETESTProblem(
            name: "B5", initialState: [0, 1, 1],
            reference: [-0.9396570798729204, -0.34211777540007491, 0.7414126596199953]
        ) { _, y in
            [y[1] * y[2], -y[0] * y[2], -0.51 * y[0] * y[1]]
        },
        // Class C: a linear chain of ten equations.
        DETESTProblem(
            name: "C1", initialState: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            reference: [
                2.0611536224385578e-9, 4.1223072448771157e-8, 4.1223072448771157e-7,
                2.7482048299180771e-6, 1.3741024149590386e-5, 5.4964096598361542e-5,
                1.8321365532787181e-4, 5.2346758665106231e-4, 1.3086689666276558e-3,
                0.99791274095086498,
            ]
        ) { _, y in
            var derivative = StateVector<Double>(repeating: 0, count: 10)
            derivative[0] = -y[0]
            for i in 1..<9 {
                derivative[i] = y[i - 1] - y[i]
            }
            derivative[9] = y[8]
            return derivative
        },
        // Class D: the two-body problem with eccentricities 0.1 to 0.9.
        orbit(
            "D1", eccentricity: 0.1,
            reference: [0.21988353520083966, 0.94270768463418131, -0.97876598410581765, 0.32879779909620361]),
        orbit(
            "D2", eccentricity: 0.3,
            reference: [-0.17770273571404117, 0.94677847199058926, -1.0302941631929696, 0.12110748900539522]),
        orbit(
            "D3", eccentricity: 0.5,
            reference: [-0.57804329530353612, 0.86338400091941928, -0.95950837303807274, -0.065049151267120902]),
        orbit(
            "D4", eccentricity: 0.7,
            reference: [-0.95389902934163944, 0.69074090242194315, -0.82126742708774331, -0.15395742591258247]),
        orbit(
            "D5", eccentricity: 0.9,
            reference: [-1.2952662509875744, 0.40039389637923215, -0.67753909247075659, -0.12708381542786862]),
        // Class E: second-order equations written as systems.
        DETESTProblem(
            name: "E1", initialState: [0.6713967071418031, 0.09540051444747446],
            reference: [0.14567236007282468, -0.098835001955745789]
        ) { t, y in
            let x = t + 1
            return [y[1], -(y[1] / x + (1 - 0.25 / (x * x)) * y[0])]
        },
        DETESTProblem(
            name: "E2", initialState: [2, 0], reference: [2.0081497621749486, -0.042508875273202147]
        ) { _, y in
            [y[1], (1 - y[0] * y[0]) * y[1] - y[0]]
        },
        DETESTProblem(
            name: "E3", initialState: [0, 0], reference: [-0.10041788586472407, 0.24114001320959556]
        ) { t, y in
            [y[1], y[0] * y[0] * y[0] / 6 - y[0] + 2 * sin(2.78535 * t)]
        },
        DETESTProblem(
            name: "E4", initialState: [30, 0], reference: [33.950914446465564, 0.27678226596728678]
        ) { _, y in
            [y[1], 0.032 - 0.4 * y[1] * y[1]]
        },
        DETESTProblem(
            name: "E5", initialState: [0, 0], reference: [14.117973905426255, 2.4]
        ) { t, y in
            [y[1], (1 + y[1] * y[1]).squareRoot() / (25 - t)]
        },
    ]
}
