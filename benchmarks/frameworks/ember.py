"""ember: eager mode through ``ember.nn``/``ember.optim``, the same model code as the torch one;
``compiled`` runs the same training step and forward through ``ember.compile`` (the first call
traces; it is the runner's first-step time).
"""
from __future__ import annotations

import numpy as np

from . import ModeUnavailable

__all__ = ["MODES", "available", "build", "EmberRunner"]

MODES = ("eager", "compiled")


def available() -> tuple[bool, str]:
    """Whether ember imports, with its version or the import error."""
    try:
        import ember
    except Exception as error:  # noqa: BLE001 - any import failure means "not available"
        return False, f"ember not importable: {error}"
    return True, f"ember {getattr(ember, '__version__', '?')}"


class EmberRunner:
    """One ember model + optimizer; ``step`` trains on a batch, ``predict`` returns logits."""

    def __init__(self, workload_id: str, weights: dict, seed: int,
                 compiled: bool = False) -> None:
        import ember

        from .torch import define_model, make_optimizer

        ember.manual_seed(seed)
        self._ember = ember
        self.model = define_model(ember, workload_id)
        self.model.load_state_dict({k: ember.tensor(np.array(v)) for k, v in weights.items()})
        self.optimizer = make_optimizer(ember, workload_id, self.model.parameters())
        self._cross_entropy = ember.nn.functional.cross_entropy
        self._train = ember.compile(self._train_step) if compiled else self._train_step
        self._forward = ember.compile(self.model) if compiled else self.model

    def _train_step(self, x, y):
        self.optimizer.zero_grad()
        logits = self.model(x)
        loss = self._cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        self.optimizer.step()
        return loss

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step; returns the loss before the update."""
        ember = self._ember
        return float(self._train(ember.from_numpy(x), ember.from_numpy(y)).item())

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits (no autograd graph)."""
        with self._ember.no_grad():
            return self._forward(self._ember.from_numpy(x)).numpy()


def build(workload_id: str, mode: str, weights: dict, seed: int) -> EmberRunner:
    """A runner for ``workload_id`` in ``mode`` ("eager" or "compiled")."""
    if mode not in MODES:
        raise ModeUnavailable(f"ember has no mode {mode!r}; modes are {MODES}")
    ok, reason = available()
    if not ok:
        raise ModeUnavailable(reason)
    return EmberRunner(workload_id, weights, seed, compiled=mode == "compiled")
