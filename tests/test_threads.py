"""ember.set_num_threads / get_num_threads (src/ember/threads.py).

The count is read back through OpenBLAS's own ``openblas_get_num_threads`` (what
``get_num_threads`` returns when the BLAS is controllable), and, for oneDNN's OpenMP, through
``omp_get_max_threads``. Environment interplay runs in fresh subprocesses, since OpenBLAS and
libgomp read their variables once, when they load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember import threads

pytestmark = pytest.mark.skipif(threads.info()["blas"] is None,
                                reason="NumPy's BLAS is not a controllable OpenBLAS here")


@pytest.fixture
def restore_threads():
    before = ember.get_num_threads()
    omp_before = os.environ.get("OMP_NUM_THREADS")
    yield
    ember.set_num_threads(before)
    if omp_before is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = omp_before


def _run(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "EMBER_BACKEND")}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_exported_with_pytorch_names():
    assert ember.set_num_threads is threads.set_num_threads
    assert ember.get_num_threads is threads.get_num_threads
    assert ember.set_num_threads.__doc__ and ember.get_num_threads.__doc__


def test_set_changes_the_blas_thread_count(restore_threads):
    blas_get = threads._find_blas()[2]  # OpenBLAS's own getter, not ember's memory of n
    for n in (1, 3, 2):
        ember.set_num_threads(n)
        assert blas_get() == n
        assert ember.get_num_threads() == n
        assert threads.info()["blas_threads"] == n


def test_accepts_numpy_integers(restore_threads):
    ember.set_num_threads(np.int64(1))
    assert ember.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -2])
def test_non_positive_count_is_a_clear_value_error(bad, restore_threads):
    before = ember.get_num_threads()
    with pytest.raises(ValueError, match=r"set_num_threads.*positive.*" + str(bad)):
        ember.set_num_threads(bad)
    assert ember.get_num_threads() == before  # nothing was changed


@pytest.mark.parametrize("bad", [1.5, "2", None, True])
def test_non_int_count_is_a_clear_type_error(bad, restore_threads):
    with pytest.raises(TypeError, match=r"set_num_threads: n must be an int"):
        ember.set_num_threads(bad)


def test_results_do_not_depend_on_the_thread_count(restore_threads):
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal((300, 200), dtype=np.float32))
    b = ember.tensor(rng.standard_normal((200, 100), dtype=np.float32))
    ember.set_num_threads(1)
    one = (a @ b).numpy()
    ember.set_num_threads(2)
    two = (a @ b).numpy()
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-5)


def test_default_follows_openblas_num_threads_even_when_numpy_came_first():
    out = _run("""
        import json, numpy, ember
        print(json.dumps({"n": ember.get_num_threads()}))
    """, {"OPENBLAS_NUM_THREADS": "1"})
    assert out["n"] == 1


def test_set_works_when_numpy_was_imported_before_ember():
    out = _run("""
        import json, numpy
        a = numpy.ones((256, 256), numpy.float32); a @ a  # OpenBLAS pool already started
        import ember
        ember.set_num_threads(1)
        one = ember.threads.info()["blas_threads"]
        ember.set_num_threads(2)
        print(json.dumps({"one": one, "two": ember.get_num_threads()}))
    """)
    assert out == {"one": 1, "two": 2}


def test_openmp_loaded_later_gets_the_count():
    # oneDNN loads libgomp on its first kernel; the count set before must reach it
    from ember.backends import onednn

    if not onednn.is_available():
        pytest.skip(f"oneDNN absent: {onednn.unavailable_reason()}")
    out = _run("""
        import json, ember
        from ember.backends.onednn import _lib
        ember.set_num_threads(1)
        before = ember.threads.info()["openmp"].get("libgomp.so.1")
        _lib.load()  # libgomp loads with oneDNN and reads OMP_NUM_THREADS
        after_load = ember.threads.info()["openmp"].get("libgomp.so.1")
        ember.set_num_threads(2)  # now set through omp_set_num_threads
        print(json.dumps({"before": before, "after_load": after_load,
                          "set": ember.threads.info()["openmp"].get("libgomp.so.1")}))
    """)
    assert out["after_load"] == 1 and out["set"] == 2
    assert out["before"] in (None, 1)  # None unless something else loaded libgomp first


def test_no_op_when_the_blas_cannot_be_controlled(monkeypatch):
    # e.g. NumPy on Accelerate or MKL: n is validated and remembered, nothing else happens
    monkeypatch.setitem(threads._state, "blas", None)
    monkeypatch.delitem(threads._state, "requested", raising=False)
    monkeypatch.setattr(threads, "_loaded_openmp", lambda: [])
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert ember.get_num_threads() == threads._usable_cores()
    ember.set_num_threads(3)
    assert ember.get_num_threads() == 3
    assert threads.info()["blas"] is None and threads.info()["blas_threads"] is None
    with pytest.raises(ValueError):
        ember.set_num_threads(0)


def test_symbol_spellings_are_found():
    class FakeLib:
        scipy_openblas_set_num_threads64_ = "set"
        openblas_get_num_threads64_ = "get"

    assert threads._bind(FakeLib(), "set_num_threads") == "set"
    assert threads._bind(FakeLib(), "get_num_threads") == "get"
    assert threads._bind(FakeLib(), "get_config") is None


def test_benchmark_cell_gives_every_framework_the_same_count():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = _run(f"""
        import json, os, sys
        sys.path.insert(0, {root!r})
        from benchmarks import cell
        default = cell.default_threads()
        cell.apply_threads(default)  # before any framework (and NumPy) loads, as main() does
        import ember
        print(json.dumps({{"default": default, "ember": ember.get_num_threads(),
                          "env": [os.environ[v] for v in ("OPENBLAS_NUM_THREADS",
                                  "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")],
                          "xla": os.environ.get("XLA_FLAGS", "")}}))
    """, {"BENCH_THREADS": "1"})
    assert out["default"] == 1 and out["ember"] == 1
    assert out["env"] == ["1", "1", "1"] and "intra_op_parallelism_threads=1" in out["xla"]
