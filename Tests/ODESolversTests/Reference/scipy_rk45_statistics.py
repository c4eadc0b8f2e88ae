"""Print SciPy RK45 statistics for the problems of ScipyComparisonTests.swift.

The numbers in that test were produced by this script with SciPy 1.17.1 and NumPy on
Python 3.11 (x86-64 Linux). RK45 is the Dormand–Prince 5(4) pair with the same initial
step rule (Hairer, Nørsett & Wanner, Sec. II.4), error norm (RMS of
err / (atol + rtol * max(|y|, |y_new|))) and integral step-size controller (safety 0.9,
factors 0.2 and 10, no growth after a rejection) as the Swift `dopri5` defaults.

Usage: python3 scipy_rk45_statistics.py   (statistics first, then first step sizes)
"""

import numpy as np
from scipy.integrate import solve_ivp


def exponential_decay(t, y):
    return -y


def harmonic_oscillator(t, y):
    return [y[1], -y[0]]


def lotka_volterra(t, y):
    # DETEST B1.
    return [2 * (y[0] - y[0] * y[1]), -(y[1] - y[0] * y[1])]


def van_der_pol(t, y):
    # DETEST E2.
    return [y[1], (1 - y[0] ** 2) * y[1] - y[0]]


def two_body(t, y):
    # DETEST D3 (eccentricity 0.5).
    r3 = (y[0] ** 2 + y[1] ** 2) ** 1.5
    return [y[2], y[3], -y[0] / r3, -y[1] / r3]


PROBLEMS = {
    "exponentialDecay": (exponential_decay, [1.0], 20.0),
    "harmonicOscillator": (harmonic_oscillator, [1.0, 0.0], 10.0),
    "lotkaVolterra": (lotka_volterra, [1.0, 3.0], 20.0),
    "vanDerPol": (van_der_pol, [2.0, 0.0], 20.0),
    "twoBody": (two_body, [0.5, 0.0, 0.0, np.sqrt(3.0)], 20.0),
}

TOLERANCES = [(1e-3, 1e-6), (1e-6, 1e-9), (1e-9, 1e-12)]


def print_initial_steps():
    """Print the first step size that RK45 chooses for each problem and tolerance pair."""
    from scipy.integrate import RK45

    for name, (fun, y0, end) in PROBLEMS.items():
        for rtol, atol in TOLERANCES:
            solver = RK45(fun, 0.0, np.array(y0, dtype=float), end, rtol=rtol, atol=atol)
            print(f'("{name}", {rtol:g}, {atol:g}, initialStep: {float(solver.h_abs)!r}),')


if __name__ == "__main__":
    for name, (fun, y0, end) in PROBLEMS.items():
        for rtol, atol in TOLERANCES:
            solution = solve_ivp(fun, (0.0, end), y0, method="RK45", rtol=rtol, atol=atol)
            accepted = len(solution.t) - 1
            # RK45 makes 6 evaluations per attempt plus 2 at the start (f0 and the initial
            # step's trial evaluation), so the attempts follow from nfev.
            attempts = (solution.nfev - 2) // 6
            print(
                f'("{name}", {rtol:g}, {atol:g}, nfev: {solution.nfev}, accepted: {accepted}, '
                f"rejected: {attempts - accepted}),"
            )
    print_initial_steps()
