"""Intra-op threads: ``ember.set_num_threads`` / ``ember.get_num_threads``, as in PyTorch.

ember has no thread pool of its own. Its kernels run in two libraries that do:

- the OpenBLAS NumPy loaded (every matmul, every convolution's GEMM): a pthreads pool sized to
  the cores unless ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` said otherwise;
- the OpenMP runtime of the optional oneDNN backend (``libgomp``), sized by ``OMP_NUM_THREADS``.

``set_num_threads(n)`` sets both through ctypes: OpenBLAS is found among the libraries mapped
into this process (``/proc/self/maps`` on Linux, else the wheel's ``numpy.libs``/``.dylibs``
folder) and its ``openblas_set_num_threads`` is called under whichever symbol prefix/suffix the
build uses (``scipy_openblas_set_num_threads64_`` for NumPy's own wheels). An OpenMP runtime
already loaded is set with ``omp_set_num_threads``; one not loaded yet (oneDNN loads libgomp on
its first kernel) is set through ``OMP_NUM_THREADS``, which it reads when it loads.

When the BLAS cannot be controlled (Accelerate on macOS, MKL, a BLAS without these symbols),
``set_num_threads`` still validates and remembers ``n`` and is otherwise a no-op;
``get_num_threads`` then returns that value (or the usable cores), and ``info()`` says
``"blas": None``. See docs/backends.md "Threads" for the measured default policy.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading

__all__ = ["get_num_threads", "info", "set_num_threads"]

# Symbol spellings of OpenBLAS builds: plain, 64-bit-integer suffixes, and the "scipy_" prefix
# of the scipy-openblas wheels NumPy >= 2 bundles.
_PREFIXES = ("", "scipy_")
_SUFFIXES = ("", "64_", "_64_", "_64")
# OpenMP runtimes by soname; dlopen with RTLD_NOLOAD returns one only if it is already loaded
# (libraries bundled under a hashed name, such as torch's libgomp-<hash>.so, are not touched).
_OPENMP_SONAMES = ("libgomp.so.1", "libiomp5.so", "libomp.so.5", "libomp.so")

_LOCK = threading.Lock()
_state: dict = {}  # "blas": (path, set_fn, get_fn) or None once looked up; "requested": int


def _loaded_libraries() -> list[str]:
    """Paths of the shared libraries mapped into this process (Linux), else []."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[5].strip() for line in maps
                     if line.count(" ") >= 5 and "/" in line}
    except (OSError, IndexError):
        return []
    return sorted(p for p in paths if ".so" in os.path.basename(p))


def _numpy_bundled() -> list[str]:
    """OpenBLAS libraries shipped inside the NumPy wheel (where /proc/self/maps is missing)."""
    import numpy

    root = os.path.dirname(os.path.dirname(numpy.__file__))
    found = []
    for folder in ("numpy.libs", os.path.join("numpy", ".dylibs")):
        found += glob.glob(os.path.join(root, folder, "*openblas*"))
    return sorted(found)


def _bind(lib: ctypes.CDLL, name: str):
    """``openblas_<name>`` under the first symbol spelling ``lib`` exports, else None."""
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            fn = getattr(lib, f"{prefix}openblas_{name}{suffix}", None)
            if fn is not None:
                return fn
    return None


def _find_blas():
    """``(path, set_fn, get_fn)`` of the OpenBLAS NumPy uses, or None; looked up once."""
    if "blas" in _state:
        return _state["blas"]
    import numpy  # noqa: F401  NumPy loads its BLAS on import; it must be mapped first

    candidates = [p for p in _loaded_libraries() if "openblas" in os.path.basename(p).lower()]
    candidates = candidates or _numpy_bundled()
    found = None
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)  # already loaded: dlopen returns the same handle
        except OSError:
            continue
        set_fn, get_fn = _bind(lib, "set_num_threads"), _bind(lib, "get_num_threads")
        if set_fn is not None and get_fn is not None:
            set_fn.argtypes, set_fn.restype = [ctypes.c_int], None
            get_fn.argtypes, get_fn.restype = [], ctypes.c_int
            found = (path, set_fn, get_fn)
            break
    _state["blas"] = found
    return found


def _loaded_openmp() -> list:
    """``(soname, CDLL)`` of each OpenMP runtime already loaded under a standard soname."""
    mode = getattr(os, "RTLD_NOLOAD", None)
    if mode is None:
        return []
    found = []
    for soname in _OPENMP_SONAMES:
        try:
            lib = ctypes.CDLL(soname, mode=mode | os.RTLD_LOCAL)
        except OSError:
            continue
        if hasattr(lib, "omp_set_num_threads") and hasattr(lib, "omp_get_max_threads"):
            lib.omp_set_num_threads.argtypes, lib.omp_set_num_threads.restype = [ctypes.c_int], None
            lib.omp_get_max_threads.argtypes = []
            lib.omp_get_max_threads.restype = ctypes.c_int
            found.append((soname, lib))
    return found


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Set the number of threads ember's kernels use within one op (PyTorch's intra-op threads).

    ``n`` must be a positive int. It applies to NumPy's OpenBLAS (matmuls, convolution GEMMs)
    at once, to the oneDNN backend's OpenMP runtime if it is loaded (for calls from this Python
    thread, as OpenMP settings are per thread), and to one loaded later through
    ``OMP_NUM_THREADS``. When OpenBLAS cannot be found or controlled (for example NumPy built
    on Accelerate or MKL), the BLAS part is a no-op: ``n`` is only remembered.

    Example: ``ember.set_num_threads(1)`` on a machine shared with other jobs, where a second
    BLAS thread waiting for a busy core makes large GEMMs many times slower.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        try:
            import numpy

            ok = isinstance(n, numpy.integer)
        except ImportError:  # pragma: no cover - NumPy is a dependency
            ok = False
        if not ok:
            raise TypeError(f"ember.set_num_threads: n must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 1:
        raise ValueError(f"ember.set_num_threads: the number of threads must be positive, "
                         f"got {n}")
    with _LOCK:
        _state["requested"] = n
        blas = _find_blas()
        if blas is not None:
            blas[1](n)
        for _, lib in _loaded_openmp():
            lib.omp_set_num_threads(n)
        # an OpenMP runtime loaded later (oneDNN's first kernel) reads this when it starts
        os.environ["OMP_NUM_THREADS"] = str(n)


def get_num_threads() -> int:
    """The number of threads ember's kernels use within one op (PyTorch's intra-op threads).

    Read back from OpenBLAS itself when it can be controlled; otherwise the value last given
    to ``set_num_threads``, or the number of cores this process may run on.
    """
    blas = _find_blas()
    if blas is not None:
        return int(blas[2]())
    return _state.get("requested") or _usable_cores()


def info() -> dict:
    """What ``set_num_threads`` controls here, for logs and benchmark records: the OpenBLAS
    path and its thread count (None when not controllable), and each loaded OpenMP runtime
    with its ``omp_get_max_threads()`` for the calling thread."""
    blas = _find_blas()
    return {
        "blas": blas[0] if blas else None,
        "blas_threads": int(blas[2]()) if blas else None,
        "openmp": {soname: int(lib.omp_get_max_threads()) for soname, lib in _loaded_openmp()},
        "num_threads": get_num_threads(),
    }
