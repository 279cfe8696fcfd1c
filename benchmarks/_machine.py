"""What the numbers were measured on: CPU, cores, library versions, BLAS and thread settings."""

from __future__ import annotations

import contextlib
import io
import os
import platform

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def numpy_blas() -> str:
    """The BLAS NumPy was built against, from ``numpy.show_config`` (name and version)."""
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy: parse the printed form
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            np.show_config()
        for line in out.getvalue().splitlines():
            if "blas" in line.lower() and "name" in line.lower():
                return line.split(":", 1)[-1].strip()
    return "unknown"


def thread_pools() -> list:
    """Loaded thread pools (BLAS, OpenMP) as threadpoolctl reports them, or [] without it."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [{k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "version",
                                      "filepath")}
            for info in threadpoolctl.threadpool_info()]


def load_average() -> list | None:
    """1, 5 and 15 minute load averages: other work on the machine slows every column."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info(torch_module=None) -> dict:
    """Everything that explains the numbers; call after NumPy and torch are imported."""
    import numpy as np

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "torch": getattr(torch_module, "__version__", None),
        "torch_threads": torch_module.get_num_threads() if torch_module is not None else None,
        "thread_env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "thread_pools": thread_pools(),
        "load_average": load_average(),
    }
    return info
