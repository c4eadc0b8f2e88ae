"""Expand the dense-output formulas of dopri5, tsit5 and dopri8 into per-stage polynomials.

The solver stores every continuous extension as y(t0 + θh) = y0 + h Σ_i b_i(θ) k_i with
b_i(θ) = Σ_{m=1..degree} P[i][m-1] θ^m. This script prints P for the three methods whose
published dense output has another form, so that the numbers in the Swift tableau files
can be regenerated and checked:

- dopri5: Shampine's continuous extension as given in Hairer, Nørsett & Wanner,
  "Solving Ordinary Differential Equations I" (2nd ed.), Sec. II.6, in the nested form
  y0 + θ(r1 + (1-θ)(r2 + θ(r3 + (1-θ) r4))) with r1 = y1 - y0, r2 = h k1 - r1,
  r3 = r1 - h k7 - r2 and r4 = h Σ d_i k_i.
- dopri8: the order-7 extension of DOP853 (same book, Sec. II.10), which nests seven terms
  the same way and adds three stages. Its decimal coefficients are read from the copy that
  SciPy ships (scipy/integrate/_ivp/dop853_coefficients.py), which reproduces Hairer's code.
- tsit5: the factored polynomials of Tsitouras (2011), Sec. 3.

Usage: python3 dense_output_coefficients.py [dopri5|tsit5|dopri8|dopri8-tableau]
"""

import re
import sys
from fractions import Fraction
from pathlib import Path

import mpmath

mpmath.mp.dps = 50


def nested_to_monomials(terms):
    """Expand θ(F0 + (1-θ)(F1 + θ(F2 + (1-θ)(F3 + ...)))) into θ^1..θ^n coefficients.

    Each F is a list of per-stage coefficients; the result has one list per stage.
    """
    stage_count = len(terms[0])
    # Polynomials are lists of coefficients in θ, lowest power first.
    result = [[mpmath.mpf(0)] for _ in range(stage_count)]
    for index in reversed(range(len(terms))):
        factor = [0, 1] if index % 2 == 0 else [1, -1]  # θ or (1 - θ)
        for stage in range(stage_count):
            poly = result[stage]
            poly[0] += terms[index][stage]
            product = [mpmath.mpf(0)] * (len(poly) + 1)
            for i, a in enumerate(poly):
                for j, b in enumerate(factor):
                    product[i + j] += a * b
            result[stage] = product
    return [poly[1:] for poly in result]  # the constant term is zero


def dopri5():
    b = [Fraction(35, 384), 0, Fraction(500, 1113), Fraction(125, 192),
         Fraction(-2187, 6784), Fraction(11, 84), 0]
    d = [Fraction(-12715105075, 11282082432), 0, Fraction(87487479700, 32700410799),
         Fraction(-10690763975, 1880347072), Fraction(701980252875, 199316789632),
         Fraction(-1453857185, 822651844), Fraction(69997945, 29380423)]
    unit_first = [1, 0, 0, 0, 0, 0, 0]
    unit_last = [0, 0, 0, 0, 0, 0, 1]
    r1 = b
    r2 = [u - x for u, x in zip(unit_first, r1)]
    r3 = [x - u - y for x, u, y in zip(r1, unit_last, r2)]
    terms = [[mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else mpmath.mpf(x)
              for x in row] for row in (r1, r2, r3, d)]
    return nested_to_monomials(terms)


def tsit5():
    def poly_from_roots(scale, roots, extra=()):
        # scale * θ^k * Π(θ - r) * Π(quadratic factors); returns θ^1.. coefficients.
        poly = [mpmath.mpf(scale)]
        for factor in extra:
            poly = multiply(poly, factor)
        for root in roots:
            poly = multiply(poly, [-mpmath.mpf(root), 1])
        return poly

    def multiply(p, q):
        p = [mpmath.mpf(x) for x in p]
        q = [mpmath.mpf(x) for x in q]
        out = [mpmath.mpf(0)] * (len(p) + len(q) - 1)
        for i, a in enumerate(p):
            for j, b in enumerate(q):
                out[i + j] += a * b
        return out

    t = [0, 1]
    t2 = [0, 0, 1]
    b1 = poly_from_roots("-1.0530884977290216", ["1.3299890189751412"],
                         [t, ["0.7139816917074209", "-1.4364028541716351", 1]])
    b2 = poly_from_roots("0.1017", [], [t2, ["1.2949852507374631", "-2.1966568338249754", 1]])
    b3 = poly_from_roots("2.490627285651252793", [],
                         [t2, ["1.57803468208092486", "-2.38535645472061657", 1]])
    b4 = poly_from_roots("-16.54810288924490272", ["1.21712927295533244", "0.61620406037800089"], [t2])
    b5 = poly_from_roots("47.37952196281928122", ["1.203071208372362603", "0.658047292653547382"], [t2])
    b6 = poly_from_roots("-34.87065786149660974", ["1.2", "0.666666666666666667"], [t2])
    b7 = poly_from_roots("2.5", ["1", "0.6"], [t2])
    rows = []
    for poly in (b1, b2, b3, b4, b5, b6, b7):
        poly = [mpmath.mpf(x) for x in poly]
        poly += [mpmath.mpf(0)] * (5 - len(poly))
        rows.append(poly[1:5])
    return rows


def dop853_numbers():
    """Parse the decimal strings of DOP853's coefficients from SciPy's copy."""
    import scipy.integrate._ivp as ivp
    text = (Path(ivp.__file__).parent / "dop853_coefficients.py").read_text()
    numbers = {}
    for name, i, j, value in re.findall(r"^(A|D)\[(\d+), (\d+)\] = (\S+)$", text, re.M):
        numbers[(name, int(i), int(j))] = mpmath.mpf(value)
    c_block = re.search(r"C = np.array\(\[(.*?)\]\)", text, re.S).group(1)
    c = [mpmath.mpf(x.strip()) for x in c_block.split(",") if x.strip()]
    for name, index, value in re.findall(r"^(E5)\[(\d+)\] = (\S+)$", text, re.M):
        numbers[(name, int(index), 0)] = mpmath.mpf(value)
    bhh = [mpmath.mpf(v) for v in re.findall(r"^E3\[\d+\] -= (\S+)$", text, re.M)]
    return numbers, c, bhh


def dopri8():
    numbers, _, _ = dop853_numbers()
    b = [numbers.get(("A", 12, j), mpmath.mpf(0)) for j in range(16)]
    unit_first = [1] + [0] * 15
    unit_fsal = [0] * 12 + [1] + [0] * 3
    r1 = b
    r2 = [u - x for u, x in zip(unit_first, r1)]
    r3 = [x - u - y for x, u, y in zip(r1, unit_fsal, r2)]
    ds = [[numbers.get(("D", m, j), mpmath.mpf(0)) for j in range(16)] for m in range(4)]
    return nested_to_monomials([r1, r2, r3] + ds)


def dopri8_tableau():
    numbers, c, bhh = dop853_numbers()
    print("nodes:", [mpmath.nstr(x, 30) for x in c])
    for i in range(1, 16):
        row = [numbers.get(("A", i, j), mpmath.mpf(0)) for j in range(i)]
        print(f"row {i}:", ", ".join(mpmath.nstr(x, 30) for x in row))
    print("E5:", [mpmath.nstr(numbers.get(("E5", j, 0), mpmath.mpf(0)), 30) for j in range(12)])
    print("bhh (stages 1, 9, 12):", [mpmath.nstr(x, 30) for x in bhh])


def print_rows(rows):
    for row in rows:
        print("[" + ", ".join(mpmath.nstr(x, 20, min_fixed=-1, max_fixed=1) for x in row) + "],")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "dopri5"
    if which == "dopri8-tableau":
        dopri8_tableau()
    else:
        print_rows({"dopri5": dopri5, "tsit5": tsit5, "dopri8": dopri8}[which]())
