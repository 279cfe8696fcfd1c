"""Backend selection: set_backend/get_backend, errors, the EMBER_BACKEND environment variable
and the thread settings ember makes at import (checked in fresh interpreters)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import ember
from ember.backends import BackendError, BackendUnavailableError

from .conftest import ONEDNN_REASON


def _python(code: str, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("EMBER_BACKEND", "OMP_WAIT_POLICY")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, timeout=120)


def test_default_is_numpy_and_names_are_exported():
    assert ember.get_backend() == "numpy"
    assert ember.set_backend is ember.backends.set_backend
    assert ember.backends.BACKENDS == ("numpy", "onednn")


@pytest.mark.parametrize("name", ["cuda", "", None, 3])
def test_unknown_backend_is_a_clear_error(name):
    with pytest.raises(BackendError, match="unknown backend .*'numpy', 'onednn'"):
        ember.set_backend(name)
    assert ember.get_backend() == "numpy"


def test_backend_error_is_an_ember_error():
    assert issubclass(BackendError, ember.EmberError)
    assert issubclass(BackendUnavailableError, BackendError)


@pytest.mark.skipif(ONEDNN_REASON is not None, reason=f"oneDNN unavailable: {ONEDNN_REASON}")
def test_set_and_restore():
    ember.set_backend("onednn")
    try:
        assert ember.get_backend() == "onednn"
        ember.set_backend("NumPy")  # names are case-insensitive
        assert ember.get_backend() == "numpy"
    finally:
        ember.set_backend("numpy")


@pytest.mark.skipif(ONEDNN_REASON is not None, reason=f"oneDNN unavailable: {ONEDNN_REASON}")
def test_environment_variable_selects_onednn():
    r = _python("import ember; print(ember.get_backend())", EMBER_BACKEND="onednn")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "onednn"


def test_environment_variable_with_unknown_name_fails_at_import():
    r = _python("import ember", EMBER_BACKEND="tpu")
    assert r.returncode != 0
    assert "EMBER_BACKEND='tpu'" in r.stderr and "unknown backend" in r.stderr


def test_unavailable_library_says_why():
    code = ("import ember\n"
            "from ember.backends import onednn\n"
            "print(onednn.is_available())\n"
            "try:\n"
            "    ember.set_backend('onednn')\n"
            "except ember.backends.BackendUnavailableError as e:\n"
            "    print('ERR', e)\n"
            "print(ember.get_backend())\n")
    r = _python(code, EMBER_ONEDNN_LIBRARY="/nonexistent/libdnnl.so.2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "False"
    assert lines[1].startswith("ERR set_backend('onednn'): oneDNN is not available")
    assert "/nonexistent/libdnnl.so.2" in lines[1] and "apt-get install libdnnl2" in lines[1]
    assert lines[2] == "numpy"


def test_thread_settings_are_defaults_the_user_can_override():
    code = "import os, ember; print(os.environ['OMP_WAIT_POLICY'])"
    assert _python(code).stdout.strip() == "passive"
    assert _python(code, OMP_WAIT_POLICY="active").stdout.strip() == "active"
