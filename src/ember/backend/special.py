"""Special functions NumPy lacks (erf), vectorized and accurate to the dtype's precision.

erf(x) = x * P(x^2) for |x| <= 3 and 1 - exp(-x^2) * Q(|x|) for 3 < |x| <= 6, where P and Q
are Chebyshev series fitted once to ``math.erf``/``math.erfc`` at 4,000 Chebyshev nodes
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


def _clenshaw(u: np.ndarray, coeffs) -> np.ndarray:
    """Sum c_k T_k(u) by Clenshaw's recurrence."""
    b1 = np.zeros_like(u)
    b2 = np.zeros_like(u)
    two_u = u * 2
    for c in coeffs[:0:-1]:
        b1, b2 = two_u * b1 - b2 + c, b1
    return u * b1 - b2 + coeffs[0]


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's float dtype."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    work = np.float64 if dtype == np.float64 else np.float32
    short = work is np.float32
    a = np.abs(x).astype(work)
    main_terms = _MAIN[:15] if short else _MAIN
    tail_terms = _TAIL[:7] if short else _TAIL
    core = np.minimum(a, 3.0)
    out = core * _clenshaw((core * core - 4.5) / 4.5, main_terms)
    big = a > 3.0
    if big.any():
        ab = np.minimum(a[big], 6.0)
        out[big] = 1.0 - np.exp(-ab * ab) * _clenshaw((ab - 4.5) / 1.5, tail_terms)
    out = np.copysign(out, x, dtype=work) if x.dtype.kind == "f" else np.copysign(out, x)
    return out.astype(dtype, copy=False)
