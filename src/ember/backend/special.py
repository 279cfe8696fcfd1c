"""Special functions NumPy lacks (erf), vectorized and accurate to the dtype's precision.

erf(x) = x * P(x^2) for |x| <= 3 and 1 - exp(-x^2) * Q(|x|) for 3 < |x| <= 6, where P and Q
are Chebyshev series (evaluated as power series) fitted once to ``math.erf``/``math.erfc``
at 4,000 Chebyshev nodes
(max abs error: 4e-15 in float64 with the full series, 6e-10 with the short float32 series).
"""

from __future__ import annotations

import numpy as np

# erf(x)/x as a Chebyshev series in u = (x^2 - 4.5) / 4.5, for 0 <= x <= 3
_MAIN = (0.5853852667546242, -0.34669920496250606, 0.12916620611705087, -0.046075073389869894,
         0.015042247941481268, -0.004448393879812645, 0.0011916693524239073,
         -0.00029026598557547393, 6.46104913011852e-05, -1.32121730176588e-05,
         2.4948363733618295e-06, -4.3711752496621605e-07, 7.137877843315347e-08,
         -1.0907226640795266e-08, 1.5654369139148312e-09, -2.1173358525083202e-10,
         2.7070924629955393e-11, -3.280795803074857e-12, 3.77871488534074e-13,
         -4.1472284613841484e-14, 4.408980656167158e-15, -5.163671038754329e-16)
# erfc(x) * exp(x^2) as a Chebyshev series in v = (x - 4.5) / 1.5, for 3 <= x <= 6
_TAIL = (0.12902689965474168, -0.042042678139511805, 0.006698487121092751,
         -0.0010450916791743827, 0.00015985899884949026, -2.3998261587257433e-05,
         3.539064105055655e-06, -5.131303200676105e-07, 7.320268610644238e-08,
         -1.0282193133747246e-08, 1.4229088730204462e-09, -1.941115784818751e-10,
         2.6117967275658746e-11, -3.467806031789281e-12, 4.545569685278822e-13)


def _power_series(cheb) -> tuple:
    """Chebyshev coefficients as power-series coefficients in the same variable (|u| <= 1;
    the series converge fast, so this loses nothing measurable and evaluates in place)."""
    return tuple(float(c) for c in np.polynomial.chebyshev.cheb2poly(np.array(cheb)))


_MAIN_POW = {True: _power_series(_MAIN[:15]), False: _power_series(_MAIN)}
_TAIL_POW = {True: _power_series(_TAIL[:7]), False: _power_series(_TAIL)}


def _horner(u: np.ndarray, coeffs: tuple) -> np.ndarray:
    """Sum c_k u^k in place in one buffer: big arrays allocate once (page faults dominate
    otherwise: GELU on W5 spent most of its time in fresh temporaries)."""
    acc = np.multiply(u, coeffs[-1])
    acc += coeffs[-2]
    for c in coeffs[-3::-1]:
        acc *= u
        acc += c
    return acc


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's float dtype."""
    shape = np.shape(x)
    x = np.asarray(x).reshape(-1)  # 1-D: ufuncs on 0-d arrays return scalars, not buffers
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    work = np.float64 if dtype == np.float64 else np.float32
    short = work is np.float32
    a = np.abs(x, dtype=work) if x.dtype == work else np.abs(x).astype(work)
    core = np.minimum(a, 3.0, dtype=work)
    u = np.multiply(core, core)
    u -= 4.5
    u /= 4.5
    out = _horner(u, _MAIN_POW[short])
    out *= core
    big = a > 3.0
    if big.any():
        ab = np.minimum(a[big], 6.0)
        v = (ab - 4.5) / 1.5
        out[big] = 1.0 - np.exp(-ab * ab) * _horner(v, _TAIL_POW[short])
    if x.dtype.kind == "f":
        np.copysign(out, x, out=out)
    else:
        out = np.copysign(out, x)
    return out.astype(dtype, copy=False).reshape(shape)
