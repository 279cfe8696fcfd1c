"""The convolution and pooling op-info entries (tests/ops/opinfo_conv.py) re-run with the
oneDNN backend selected: forward vs PyTorch, strided inputs, and gradients vs PyTorch, all in
float32 (the dtype oneDNN runs; the float64 gradchecks would only exercise the NumPy fallback
and are not repeated). Each case also checks that oneDNN really ran (the primitive cache was
used), so a silent fallback cannot pass for the backend."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.backends.onednn import _lib

from ..ops import opinfo_conv
from ..ops import test_op_table as table
from .conftest import ONEDNN_REASON

pytestmark = pytest.mark.skipif(ONEDNN_REASON is not None,
                                reason=f"oneDNN backend unavailable: {ONEDNN_REASON}")

CASES = [c for c in table.CASES if c.values[0] in opinfo_conv.OPS]
# ops with no oneDNN kernel (adaptive pooling is a composite of NumPy-side ops) or whose every
# sample takes a documented NumPy fallback (divisor_override)
NO_ONEDNN = {"F.adaptive_avg_pool2d", "F.adaptive_avg_pool1d"}


@pytest.fixture(autouse=True)
def onednn_selected(check_infer):
    before = ember.get_backend()
    ember.set_backend("onednn")
    yield
    ember.set_backend(before)


check_infer = table.check_infer


def _run(test, info, sample):
    """Run ``test``; when it did not skip, assert that oneDNN primitives were used."""
    before = _lib.cache_stats()
    test(info, sample)
    after = _lib.cache_stats()
    if info.name not in NO_ONEDNN and not sample.kwargs.get("divisor_override"):
        assert (after["created"], after["hits"]) != (before["created"], before["hits"]), (
            f"{info.name}: oneDNN was selected but never ran")


@pytest.mark.parametrize("info, sample", CASES)
def test_forward_onednn(info, sample):
    _run(table.test_forward, info, sample)


@pytest.mark.parametrize("info, sample", CASES)
def test_noncontiguous_inputs_onednn(info, sample):
    table.test_noncontiguous_inputs(info, sample)


@pytest.mark.parametrize("info, sample", CASES)
def test_gradient_against_torch_onednn(info, sample):
    if table.torch is None:
        pytest.skip("PyTorch is not installed")
    _run(table.test_gradient_against_torch, info, sample)


def test_cases_cover_conv_and_pool():
    names = {c.values[0].name for c in CASES}
    assert {"F.conv2d", "F.conv1d", "F.conv_transpose2d", "F.max_pool2d", "F.avg_pool2d"} <= names
    assert np.float32 == np.dtype(opinfo_conv.rand(np.random.default_rng(0), 1).dtype)
