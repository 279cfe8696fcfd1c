"""End to end: the five workload training steps (small shapes) give the same losses and
parameters, bit for bit, with and without the graph passes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.graph import function as compile_module
from ember.models import cifar_cnn, lenet, lstm_lm, mlp, transformer

SGD = {"lr": 0.01, "momentum": 0.9}
ADAM = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}


def _workload(wid: str):
    """Model, optimizer and one batch of workload ``wid`` at a small size."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    if wid == "W1":
        model = mlp(in_features=20, hidden=(16, 16), num_classes=5)
        x, y = rng.standard_normal((4, 20)).astype(np.float32), rng.integers(0, 5, 4)
        opt = ember.optim.SGD(model.parameters(), **SGD)
    elif wid == "W2":
        model = lenet(image_size=12)
        x, y = rng.standard_normal((2, 1, 12, 12)).astype(np.float32), rng.integers(0, 10, 2)
        opt = ember.optim.SGD(model.parameters(), **SGD)
    elif wid == "W3":
        model = cifar_cnn(image_size=8)
        x, y = rng.standard_normal((2, 3, 8, 8)).astype(np.float32), rng.integers(0, 10, 2)
        opt = ember.optim.SGD(model.parameters(), **SGD)
    elif wid == "W4":
        model = lstm_lm(vocab_size=16, embedding_dim=8, hidden_size=12)
        x, y = rng.integers(0, 16, (2, 5)), rng.integers(0, 16, (2, 5))
        opt = ember.optim.Adam(model.parameters(), **ADAM)
    else:
        model = transformer(vocab_size=20, num_classes=20, d_model=16, nhead=2,
                            dim_feedforward=32, max_len=8)
        x, y = rng.integers(0, 20, (2, 6)), rng.integers(0, 20, (2, 6))
        opt = ember.optim.AdamW(model.parameters(), weight_decay=0.01, **ADAM)

    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    return model, step, ember.tensor(x), ember.tensor(y)


def _train(wid: str, optimize: bool, steps: int = 3):
    model, step, x, y = _workload(wid)
    f = ember.compile(step, optimize=optimize)
    ember.manual_seed(1)
    losses = [f(x, y).numpy().tobytes() for _ in range(steps)]
    params = [p.detach().numpy().tobytes() for p in model.parameters()]
    assert f.traces < steps  # the last call ran the cached graph
    return losses, params, f.graph


@pytest.fixture
def passes_only(monkeypatch):
    """Compile with the passes of this package but without fusion and buffer planning."""
    class NoFusion:
        @staticmethod
        def fuse_elementwise(graph):
            return graph

    monkeypatch.setattr(compile_module, "_fuse", NoFusion)
    monkeypatch.setattr(compile_module, "plan_memory", lambda graph: None)


# nodes of the last graph without passes -> with them, measured on these shapes
EXPECTED_FEWER = {"W1": 3, "W2": 3, "W3": 3, "W4": 5, "W5": 60}


@pytest.mark.parametrize("wid", ["W1", "W2", "W3", "W4", "W5"])
def test_passes_keep_training_step_results(wid, passes_only):
    losses, params, plain = _train(wid, optimize=False)
    losses_opt, params_opt, optimized = _train(wid, optimize=True)
    assert losses_opt == losses
    assert params_opt == params
    assert len(optimized.nodes) <= len(plain.nodes) - EXPECTED_FEWER[wid]


@pytest.mark.parametrize("wid", ["W1", "W4", "W5"])
def test_full_pipeline_keeps_training_step_results(wid):
    """With fusion and buffer planning after the passes (the default ember.compile)."""
    losses, params, _ = _train(wid, optimize=False)
    losses_opt, params_opt, _ = _train(wid, optimize=True)
    assert losses_opt == losses
    assert params_opt == params
