/// An integration method for ``odeint(_:_:at:method:options:until:)``.
///
/// Fixed-step methods take the steps that ``ODESolverOptions/fixedGrid`` describes. Adaptive
/// methods choose their steps from the tolerances. Names follow torchdiffeq.
public enum ODEMethod: Sendable, Hashable {
    /// Forward Euler, order 1, fixed step.
    case euler
    /// Explicit midpoint rule, order 2, fixed step.
    case midpoint
    /// Heun's method (explicit trapezoidal rule), order 2, fixed step.
    case heun
    /// Classic fourth-order Runge–Kutta in Kutta's 3/8-rule form, fixed step.
    case rk4

    /// Dormand–Prince 5(4) with its fourth-order dense output; the default.
    case dopri5
    /// Bogacki–Shampine 3(2).
    case bosh3
    /// Runge–Kutta–Fehlberg 2(1).
    case fehlberg2
    /// Heun–Euler 2(1).
    case adaptiveHeun
    /// Tsitouras 5(4).
    case tsit5
    /// Dormand–Prince 8(5,3) (DOP853), for tight tolerances.
    case dopri8

    /// Variable-step, variable-order Adams–Bashforth–Moulton in PECE form, orders
    /// `1 ... maximumOrder` with `maximumOrder` in `1 ... 12`.
    case adamsBashforthMoulton(maximumOrder: Int)

    /// Any explicit Runge–Kutta tableau; adaptive when it has an error estimator.
    case explicitRungeKutta(ButcherTableau)

    /// Adams–Bashforth–Moulton with orders up to 12.
    public static var adams: ODEMethod { .adamsBashforthMoulton(maximumOrder: 12) }

    /// The Runge–Kutta tableau of the method, or `nil` for Adams–Bashforth–Moulton.
    public var tableau: ButcherTableau? {
        switch self {
        case .euler: .euler
        case .midpoint: .midpoint
        case .heun: .heun
        case .rk4: .rk4
        case .dopri5: .dopri5
        case .bosh3: .bosh3
        case .fehlberg2: .fehlberg2
        case .adaptiveHeun: .adaptiveHeun
        case .tsit5: .tsit5
        case .dopri8: .dopri8
        case .adamsBashforthMoulton: nil
        case .explicitRungeKutta(let tableau): tableau
        }
    }

    /// True when the method chooses its own steps from the tolerances.
    public var isAdaptive: Bool {
        switch self {
        case .adamsBashforthMoulton: true
        default: tableau?.isAdaptive ?? false
        }
    }

    /// Short name used in messages, such as "dopri5" or "adams(12)".
    public var name: String {
        switch self {
        case .adamsBashforthMoulton(let maximumOrder): "adams(\(maximumOrder))"
        default: tableau?.name ?? "unknown"
        }
    }
}
