"""PyTorch: the reference models (their ``state_dict`` names are the canonical weight names).

Modes: ``eager`` and ``compile`` (``torch.compile`` of the forward + loss; backward through
AOTAutograd, optimizer step eager with PyTorch's default foreach path). A ``torch.compile`` that
fails on this machine raises ``ModeUnavailable`` with the error text, on the first step.

``define_model(lib, workload_id)`` is written against the PyTorch API only, so ember (which
mirrors it) builds the identical module from the same code: ``define_model(ember, "W5")``.
"""
from __future__ import annotations

import numpy as np

from ..workloads import WORKLOADS
from . import ModeUnavailable

__all__ = ["MODES", "available", "build", "define_model", "make_optimizer", "TorchRunner"]

MODES = ("eager", "compile")


def available() -> tuple[bool, str]:
    """Whether torch imports, with its version or the import error."""
    try:
        import torch
    except Exception as error:  # noqa: BLE001 - any import failure means "not available"
        return False, f"torch not importable: {error}"
    return True, f"torch {torch.__version__}"


def define_model(lib, workload_id: str):
    """The model of ``workload_id`` built from ``lib.nn`` (``lib`` is ``torch`` or ``ember``).

    Forward returns logits: (N, classes) for W1-W3, (N, T, vocab/classes) for W4/W5.
    """
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        """W1: fc1 -> ReLU -> fc2 -> ReLU -> fc3."""

        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(784, 512), nn.Linear(512, 512)
            self.fc3 = nn.Linear(512, 10)

        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    class MnistCNN(nn.Module):
        """W2: two conv(3x3 pad 1)+ReLU+maxpool blocks, fc1+ReLU, fc2."""

        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc1, self.fc2 = nn.Linear(3136, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            return self.fc2(F.relu(self.fc1(x.flatten(1))))

    class CifarCNN(nn.Module):
        """W3: conv64, conv64, pool, conv128, conv128, pool (conv 3x3 pad 1 + ReLU), fc1, fc2."""

        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(3, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1)
            self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
            self.conv4 = nn.Conv2d(128, 128, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc1, self.fc2 = nn.Linear(8192, 256), nn.Linear(256, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv2(F.relu(self.conv1(x)))))
            x = self.pool(F.relu(self.conv4(F.relu(self.conv3(x)))))
            return self.fc2(F.relu(self.fc1(x.flatten(1))))

    class LSTMLanguageModel(nn.Module):
        """W4: embedding 256x128 -> LSTM 128->256 (batch first, zero state) -> head 256->256."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(256, 128)
            self.lstm = nn.LSTM(128, 256, batch_first=True)
            self.head = nn.Linear(256, 256)

        def forward(self, x):
            hidden, _ = self.lstm(self.embedding(x))
            return self.head(hidden)

    class TransformerTagger(nn.Module):
        """W5: token + learned position embedding -> 2 post-norm GELU encoder layers -> head."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(1000, 128)
            self.pos_embedding = nn.Parameter(lib.zeros(64, 128))
            self.layers = nn.ModuleList([
                nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0.0,
                                           activation="gelu", batch_first=True)
                for _ in range(2)])
            self.head = nn.Linear(128, 1000)

        def forward(self, x):
            h = self.embedding(x) + self.pos_embedding
            for layer in self.layers:
                h = layer(h)
            return self.head(h)

    models = {"W1": MLP, "W2": MnistCNN, "W3": CifarCNN, "W4": LSTMLanguageModel,
              "W5": TransformerTagger}
    if workload_id not in models:
        raise KeyError(f"unknown workload {workload_id!r}")
    return models[workload_id]()


def make_optimizer(lib, workload_id: str, parameters):
    """The optimizer of WORKLOADS.md from ``lib.optim`` (``torch`` or ``ember``)."""
    spec = WORKLOADS[workload_id]
    kind = {"sgd": lib.optim.SGD, "adam": lib.optim.Adam, "adamw": lib.optim.AdamW}[spec.optimizer]
    return kind(parameters, **spec.hyperparameters)


class TorchRunner:
    """One model + optimizer; ``step`` trains on a batch, ``predict`` returns logits."""

    def __init__(self, workload_id: str, mode: str, weights: dict, seed: int) -> None:
        import torch

        torch.manual_seed(seed)
        self._torch = torch
        self.model = define_model(torch, workload_id)
        self.model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        self.optimizer = make_optimizer(torch, workload_id, self.model.parameters())
        self.mode = mode
        self._ran = set()  # compiled callables that ran once (a compile fails on a first call)
        F = torch.nn.functional

        def loss_of(x, y):
            logits = self.model(x)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

        self._loss_of = torch.compile(loss_of) if mode == "compile" else loss_of
        self._forward = torch.compile(self.model) if mode == "compile" else self.model

    def _guard(self, key: str, fn, *args):
        if self.mode != "compile" or key in self._ran:
            return fn(*args)
        try:
            out = fn(*args)
        except Exception as error:  # noqa: BLE001 - report any compiler failure as unavailable
            raise ModeUnavailable(f"torch.compile failed: {type(error).__name__}: {error}") \
                from error
        self._ran.add(key)
        return out

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step; returns the loss before the update."""
        torch = self._torch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._guard("loss", self._loss_of, xt, yt)
        self._guard("backward", loss.backward)
        self.optimizer.step()
        return float(loss.detach())

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward-only logits (no autograd graph)."""
        with self._torch.no_grad():
            return self._guard("predict", self._forward, self._torch.from_numpy(x)).numpy()


def build(workload_id: str, mode: str, weights: dict, seed: int) -> TorchRunner:
    """A runner for ``workload_id`` in ``mode`` ("eager" or "compile")."""
    if mode not in MODES:
        raise ModeUnavailable(f"torch has no mode {mode!r}; modes are {MODES}")
    ok, reason = available()
    if not ok:
        raise ModeUnavailable(reason)
    return TorchRunner(workload_id, mode, weights, seed)
