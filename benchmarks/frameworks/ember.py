"""ember: eager mode through ``ember.nn``/``ember.optim``, the same model code as the torch one;
``compiled`` runs the same training step and forward through ``ember.compile`` (the first call
traces; it is the runner's first-step time). The other modes show what each optional piece
buys: ``onednn`` is eager with ``ember.set_backend("onednn")`` (conv, pooling and LSTM/GRU
kernels from the system oneDNN), ``compiled_onednn`` is ``compiled`` on that backend, and
``onnxruntime`` trains as ``compiled`` but predicts through
``ember.compile(model, backend="onnxruntime")``. They raise ``ModeUnavailable`` with the
reason when their library is absent.
"""
from __future__ import annotations

# ember before NumPy: `import ember` sets OPENBLAS_THREAD_TIMEOUT (worker threads sleep soon
# after a GEMM instead of spinning), which OpenBLAS reads only when NumPy first loads it. A user
# script importing NumPy first loses it; the benchmark measures ember as it is meant to run.
try:
    import ember as _ember  # noqa: F401
except Exception:  # noqa: BLE001 - available() reports the import error
    _ember = None

import numpy as np  # noqa: E402

from . import ModeUnavailable  # noqa: E402

__all__ = ["MODES", "available", "build", "EmberRunner"]

MODES = ("eager", "compiled", "onednn", "compiled_onednn", "onnxruntime")

# mode -> (kernel backend, training step compiled, predict through ONNX Runtime)
_MODE_SETUP = {
    "eager": ("numpy", False, False),
    "compiled": ("numpy", True, False),
    "onednn": ("onednn", False, False),
    "compiled_onednn": ("onednn", True, False),
    "onnxruntime": ("numpy", True, True),
}


def available() -> tuple[bool, str]:
    """Whether ember imports, with its version or the import error."""
    try:
        import ember
    except Exception as error:  # noqa: BLE001 - any import failure means "not available"
        return False, f"ember not importable: {error}"
    return True, f"ember {getattr(ember, '__version__', '?')}"


def mode_unavailable_reason(mode: str) -> str | None:
    """Why ``mode`` cannot run here (its optional library is absent), or None when it can."""
    backend, _, onnx = _MODE_SETUP[mode]
    if backend == "onednn":
        from ember.backends import onednn

        if not onednn.is_available():
            return f"ember's oneDNN backend is unavailable: {onednn.unavailable_reason()}"
    if onnx:
        from ember.onnx import is_available

        if not is_available():
            return "onnxruntime is not installed (pip install onnxruntime, or ember[onnx])"
    return None


class EmberRunner:
    """One ember model + optimizer; ``step`` trains on a batch, ``predict`` returns logits.

    ``backend`` is the kernel backend selected around every step and predict (and restored
    after, so runners of different modes can share a process, as in the tests);
    ``compiled`` runs the training step through ``ember.compile``; ``onnx_predict`` runs
    ``predict`` through ``ember.compile(model, backend="onnxruntime")`` in eval mode."""

    def __init__(self, workload_id: str, weights: dict, seed: int, compiled: bool = False,
                 backend: str = "numpy", onnx_predict: bool = False) -> None:
        import ember

        from .torch import define_model, make_optimizer

        ember.manual_seed(seed)
        self._ember = ember
        self.backend = backend
        self.model = define_model(ember, workload_id)
        self.model.load_state_dict({k: ember.tensor(np.array(v)) for k, v in weights.items()})
        self.optimizer = make_optimizer(ember, workload_id, self.model.parameters())
        self._cross_entropy = ember.nn.functional.cross_entropy
        self._train = ember.compile(self._train_step) if compiled else self._train_step
        self._onnx_predict = onnx_predict
        if onnx_predict:
            self._forward = ember.compile(self.model, backend="onnxruntime")
        else:
            self._forward = ember.compile(self.model) if compiled else self.model

    def _train_step(self, x, y):
        self.optimizer.zero_grad()
        logits = self.model(x)
        loss = self._cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        self.optimizer.step()
        return loss

    def _select_backend(self) -> str:
        before = self._ember.get_backend()
        if before != self.backend:
            self._ember.set_backend(self.backend)
        return before

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step; returns the loss before the update."""
        ember = self._ember
        before = self._select_backend()
        try:
            return float(self._train(ember.from_numpy(x), ember.from_numpy(y)).item())
        finally:
            ember.set_backend(before)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits (no autograd graph; in eval mode for ONNX Runtime, which runs
        forward-only graphs, and back in train mode after, for the next step)."""
        ember = self._ember
        before = self._select_backend()
        try:
            with ember.no_grad():
                if not self._onnx_predict:
                    return self._forward(ember.from_numpy(x)).numpy()
                self.model.eval()
                try:
                    return self._forward(ember.from_numpy(x)).numpy()
                finally:
                    self.model.train()
        finally:
            ember.set_backend(before)


def build(workload_id: str, mode: str, weights: dict, seed: int) -> EmberRunner:
    """A runner for ``workload_id`` in ``mode`` (one of ``MODES``); ``ModeUnavailable`` with the
    reason when ember, oneDNN (``onednn``, ``compiled_onednn``) or onnxruntime
    (``onnxruntime``) is missing."""
    if mode not in MODES:
        raise ModeUnavailable(f"ember has no mode {mode!r}; modes are {MODES}")
    ok, reason = available()
    if not ok:
        raise ModeUnavailable(reason)
    why_not = mode_unavailable_reason(mode)
    if why_not:
        raise ModeUnavailable(why_not)
    backend, compiled, onnx = _MODE_SETUP[mode]
    return EmberRunner(workload_id, weights, seed, compiled=compiled, backend=backend,
                       onnx_predict=onnx)
