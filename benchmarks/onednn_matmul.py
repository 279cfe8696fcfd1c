"""Does oneDNN's GEMM beat NumPy's (OpenBLAS) at the workloads' linear-layer shapes?

Run from the repository root (needs libdnnl2)::

    python -m benchmarks.onednn_matmul

Calls ``dnnl_sgemm`` (oneDNN's BLAS-style entry point, row-major here) through ctypes against
``a @ b`` on the same float32 arrays, for the GEMMs of W1 and W5's forward and backward passes;
median of 30 calls after 3 warm-up, ms. ember's linear layers stay on NumPy unless this shows
oneDNN faster (issue 6 asks for matmul on oneDNN only where it wins).
"""

from __future__ import annotations

import ctypes
import time

import numpy as np

SHAPES = [  # (M, K, N) of C = A @ B
    (128, 784, 512), (128, 512, 512), (512, 128, 784),  # W1 forward, grad-weight
    (1024, 128, 384), (1024, 128, 128), (1024, 128, 512), (1024, 512, 128),  # W5 layers
    (1024, 128, 1000), (128, 1024, 512),  # W5 classifier, grad-weight
]


def _sgemm():
    from ember.backends.onednn import _lib

    fn = _lib.lib().dnnl_sgemm
    fn.argtypes = [ctypes.c_char, ctypes.c_char] + [ctypes.c_int64] * 3 + [
        ctypes.c_float, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
        ctypes.c_float, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = ctypes.c_int

    def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        (m, k), n = a.shape, b.shape[1]
        c = np.empty((m, n), np.float32)
        _lib.check(fn(b"N", b"N", m, n, k, 1.0, a.ctypes.data, k, b.ctypes.data, n, 0.0,
                      c.ctypes.data, n), "dnnl_sgemm")
        return c

    return matmul


def _median_ms(fn, repeats: int = 30) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def main() -> None:
    from ember.backends.onednn import is_available, unavailable_reason

    if not is_available():
        print(f"oneDNN not available: {unavailable_reason()}")
        return
    matmul = _sgemm()
    rng = np.random.default_rng(0)
    print("| M x K x N | NumPy ms | oneDNN ms | oneDNN / NumPy |")
    print("|---|---:|---:|---:|")
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-4, atol=1e-3)
        ours = _median_ms(lambda a=a, b=b: a @ b)
        theirs = _median_ms(lambda a=a, b=b: matmul(a, b))
        print(f"| {m} x {k} x {n} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.2f} |")


if __name__ == "__main__":
    main()
