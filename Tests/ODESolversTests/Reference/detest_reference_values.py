"""Print reference values y(20) of the DETEST problems used in DETESTTests.swift.

Problems from T. E. Hull, W. H. Enright, B. M. Fellen and A. E. Sedgwick, "Comparing
numerical methods for ordinary differential equations", SIAM J. Numer. Anal. 9(4),
603-637 (1972), non-stiff classes A-E, all on [0, 20]. Closed forms are evaluated directly;
the others are integrated with mpmath's arbitrary-precision Taylor method (mpmath.odefun)
at 30 significant digits, and both kinds are printed to 17 digits.

Usage: python3 detest_reference_values.py   (takes about a minute)
"""

import mpmath as mp

mp.mp.dps = 30
END = mp.mpf(20)


def taylor(f, y0):
    return mp.odefun(lambda t, y: f(t, y), 0, [mp.mpf(v) for v in y0])(END)


def a5():
    # y' = (y - t)/(y + t), y(0) = 4: in polar coordinates r = 4 exp(pi/2 - theta), so at
    # t = 20 solve 4 exp(pi/2 - theta) cos(theta) = 20 for theta, then y = r sin(theta).
    theta = mp.findroot(lambda th: 4 * mp.exp(mp.pi / 2 - th) * mp.cos(th) - 20, -0.5)
    return [4 * mp.exp(mp.pi / 2 - theta) * mp.sin(theta)]


def b2():
    # y' = M y with M = [[-1, 1, 0], [1, -2, 1], [0, 1, -1]], y(0) = (2, 0, 1).
    m = mp.matrix([[-1, 1, 0], [1, -2, 1], [0, 1, -1]])
    y = mp.expm(m * END) * mp.matrix([2, 0, 1])
    return [y[i] for i in range(3)]


def b5():
    # Euler's rigid body: y = (sn, cn, dn)(t | m = 0.51).
    m = mp.mpf("0.51")
    return [mp.ellipfun("sn", END, m=m), mp.ellipfun("cn", END, m=m), mp.ellipfun("dn", END, m=m)]


def c1():
    # y_i = t^(i-1) e^-t / (i-1)! for i = 1..9, y_10 = 1 - sum of the others.
    first = [END ** i * mp.exp(-END) / mp.factorial(i) for i in range(9)]
    return first + [1 - sum(first)]


def d(eccentricity):
    e = mp.mpf(eccentricity)
    u = mp.findroot(lambda u: u - e * mp.sin(u) - END, END)
    denominator = 1 - e * mp.cos(u)
    return [mp.cos(u) - e, mp.sqrt(1 - e * e) * mp.sin(u), -mp.sin(u) / denominator,
            mp.sqrt(1 - e * e) * mp.cos(u) / denominator]


def e1():
    x = END + 1
    value = mp.sqrt(2 / (mp.pi * x)) * mp.sin(x)
    derivative = mp.sqrt(2 / mp.pi) * (mp.cos(x) / mp.sqrt(x) - mp.sin(x) / (2 * x ** mp.mpf(1.5)))
    return [value, derivative]


def e4():
    k = mp.sqrt(mp.mpf("0.0128"))
    return [30 + mp.log(mp.cosh(k * END)) / mp.mpf("0.4"), mp.sqrt(mp.mpf("0.08")) * mp.tanh(k * END)]


def e5():
    s = 25 - END
    return [(25 * mp.log(25 / s) - (625 - s * s) / 50) / 2, (25 / s - s / 25) / 2]


REFERENCES = {
    "A1": lambda: [mp.exp(-END)],
    "A2": lambda: [1 / mp.sqrt(END + 1)],
    "A3": lambda: [mp.exp(mp.sin(END))],
    "A4": lambda: [20 / (1 + 19 * mp.exp(-END / 4))],
    "A5": a5,
    "B1": lambda: taylor(lambda t, y: [2 * (y[0] - y[0] * y[1]), -(y[1] - y[0] * y[1])], [1, 3]),
    "B2": b2,
    "B3": lambda: taylor(lambda t, y: [-y[0], y[0] - y[1] ** 2, y[1] ** 2], [1, 0, 0]),
    "B4": lambda: taylor(
        lambda t, y: [-y[1] - y[0] * y[2] / mp.sqrt(y[0] ** 2 + y[1] ** 2),
                      y[0] - y[1] * y[2] / mp.sqrt(y[0] ** 2 + y[1] ** 2),
                      y[0] / mp.sqrt(y[0] ** 2 + y[1] ** 2)], [3, 0, 0]),
    "B5": b5,
    "C1": c1,
    "D1": lambda: d("0.1"),
    "D2": lambda: d("0.3"),
    "D3": lambda: d("0.5"),
    "D4": lambda: d("0.7"),
    "D5": lambda: d("0.9"),
    "E1": e1,
    "E2": lambda: taylor(lambda t, y: [y[1], (1 - y[0] ** 2) * y[1] - y[0]], [2, 0]),
    "E3": lambda: taylor(lambda t, y: [y[1], y[0] ** 3 / 6 - y[0] + 2 * mp.sin(mp.mpf("2.78535") * t)], [0, 0]),
    "E4": e4,
    "E5": e5,
}

if __name__ == "__main__":
    for name, compute in REFERENCES.items():
        values = ", ".join(mp.nstr(v, 17, min_fixed=-30, max_fixed=30) for v in compute())
        print(f'"{name}": [{values}],', flush=True)
