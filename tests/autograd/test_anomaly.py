"""detect_anomaly: the backward that produced NaN is named, with the forward line."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import anomaly_mode
from ember.autograd.node import Node

from ._util import torch


def _nan_graph(lib):
    x = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
    y = lib.sqrt(x) * 0  # sqrt's backward divides 0 by 0 at x = 0
    return x, y.sum()


def test_off_by_default_and_nan_flows_silently():
    assert not ember.autograd.is_anomaly_enabled()
    x, loss = _nan_graph(ember)
    loss.backward()
    assert np.isnan(x.grad.numpy()[0])


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's own anomaly-mode warnings
def test_nan_is_reported_with_node_and_forward_line():
    with ember.autograd.detect_anomaly():
        assert ember.autograd.is_anomaly_enabled()
        x, loss = _nan_graph(ember)
        with pytest.raises(ember.AutogradError,
                           match=r"(?s)Function 'SqrtBackward' returned nan values in its 0th "
                                 r"output.*test_anomaly.py.*lib.sqrt\(x\)"):
            loss.backward()
    assert not ember.autograd.is_anomaly_enabled()
    assert Node.__dict__["record"] is anomaly_mode._plain_record  # the plain recorder is back
    # PyTorch raises for the same graph, naming the same backward
    with torch.autograd.detect_anomaly():
        _, tloss = _nan_graph(torch)
        with pytest.raises(RuntimeError, match="SqrtBackward0' returned nan values"):
            tloss.backward()


def test_errors_in_backward_carry_the_forward_stack():
    class Broken(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    with ember.autograd.set_detect_anomaly(True):
        y = Broken.apply(ember.ones(2, requires_grad=True))
        with pytest.raises(ValueError, match="broken backward") as info:
            y.sum().backward()
    notes = "".join(getattr(info.value, "__notes__", []))
    assert "BrokenBackward" in notes and "Broken.apply" in notes


def test_check_nan_false_and_decorator_form():
    @ember.autograd.detect_anomaly(check_nan=False)
    def run():
        assert ember.autograd.is_anomaly_enabled()
        x, loss = _nan_graph(ember)
        loss.backward()
        return x.grad

    assert np.isnan(run().numpy()[0])
    assert not ember.autograd.is_anomaly_enabled()


def test_set_detect_anomaly_plain_call():
    try:
        ember.autograd.set_detect_anomaly(True)
        assert ember.autograd.is_anomaly_enabled()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not ember.autograd.is_anomaly_enabled()
