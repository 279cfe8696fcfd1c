"""Fixtures for the backend tests: ``onednn`` selects the oneDNN backend for one test (and
skips it, with the reason, when the library is absent); ``both_backends`` runs a test once per
backend."""

from __future__ import annotations

import pytest

import ember
from ember.backends import onednn

ONEDNN_REASON = onednn.unavailable_reason()
requires_onednn = pytest.mark.skipif(ONEDNN_REASON is not None,
                                     reason=f"oneDNN backend unavailable: {ONEDNN_REASON}")


@pytest.fixture
def onednn_backend():
    """oneDNN selected for the test, the previous backend restored after."""
    if ONEDNN_REASON is not None:
        pytest.skip(f"oneDNN backend unavailable: {ONEDNN_REASON}")
    before = ember.get_backend()
    ember.set_backend("onednn")
    yield
    ember.set_backend(before)


@pytest.fixture(params=["numpy", "onednn"])
def both_backends(request):
    """Runs the test under each backend (the oneDNN run skips when the library is absent)."""
    if request.param == "onednn" and ONEDNN_REASON is not None:
        pytest.skip(f"oneDNN backend unavailable: {ONEDNN_REASON}")
    before = ember.get_backend()
    ember.set_backend(request.param)
    yield request.param
    ember.set_backend(before)
