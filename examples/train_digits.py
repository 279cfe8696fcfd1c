"""Train a small MLP on the embedded 8x8 digits with nothing but tensors and autograd.

No nn, no optim: the weights are plain tensors with ``requires_grad=True``, the loss is
``log_softmax`` + negative log likelihood, and SGD with momentum updates the weights in place
under ``ember.no_grad()``. A PyTorch user reads it as PyTorch with ``ember`` for ``torch``.

    python examples/train_digits.py                 # about 97% test accuracy in a few seconds
    python examples/train_digits.py --epochs 5 --check 0.95   # exit status 1 if below 95%

``ember train`` runs the same job (see ``ember/cli.py``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import ember
from ember.data.datasets import load_digits


def init_params(sizes: list[int], generator: ember.Generator) -> list[ember.Tensor]:
    """Weights ``(fan_in, fan_out)`` drawn with Kaiming (He) scaling for ReLU, zero biases."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = ember.randn(fan_in, fan_out, generator=generator) * math.sqrt(2.0 / fan_in)
        params += [w.requires_grad_(), ember.zeros(fan_out, requires_grad=True)]
    return params


def forward(params: list[ember.Tensor], x: ember.Tensor) -> ember.Tensor:
    """Logits of the MLP: ``relu(x @ w + b)`` for every layer but the last."""
    for i in range(0, len(params), 2):
        x = x @ params[i] + params[i + 1]
        if i + 2 < len(params):
            x = x.relu()
    return x


def nll_loss(logits: ember.Tensor, target: ember.Tensor) -> ember.Tensor:
    """Mean negative log likelihood of the target classes (cross-entropy on logits)."""
    log_probs = ember.log_softmax(logits, dim=1)
    return -log_probs.gather(1, target.unsqueeze(1)).mean()


def accuracy(params: list[ember.Tensor], x: ember.Tensor, y: ember.Tensor) -> float:
    with ember.no_grad():
        return (forward(params, x).argmax(dim=1) == y).float().mean().item()


def train(epochs: int = 10, lr: float = 0.05, batch_size: int = 32, seed: int = 0,
          hidden: int = 256, momentum: float = 0.9, log=print) -> dict[str, list[float]]:
    """Train and return the history: per-epoch mean loss, train and test accuracy."""
    generator = ember.Generator().manual_seed(seed)
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    x_train = x_train.reshape(x_train.shape[0], -1)  # (N, 1, 8, 8) -> (N, 64)
    x_test = x_test.reshape(x_test.shape[0], -1)
    # Centre and scale with the training set's statistics: SGD converges faster on them.
    mean, std = x_train.mean(), x_train.std()
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    params = init_params([64, hidden, 10], generator)
    velocities = [ember.zeros_like(p) for p in params]
    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    n = x_train.shape[0]
    for epoch in range(1, epochs + 1):
        start, total_loss = time.perf_counter(), 0.0
        order = ember.randperm(n, generator=generator)
        for first in range(0, n, batch_size):
            batch = order[first:first + batch_size]
            loss = nll_loss(forward(params, x_train[batch]), y_train[batch])
            loss.backward()
            with ember.no_grad():
                for p, v in zip(params, velocities):
                    v.mul_(momentum).add_(p.grad)
                    p.sub_(lr * v)
                    p.grad = None
            total_loss += loss.item() * batch.shape[0]
        history["loss"].append(total_loss / n)
        history["train_acc"].append(accuracy(params, x_train, y_train))
        history["test_acc"].append(accuracy(params, x_test, y_test))
        log(f"epoch {epoch:3d}  loss {history['loss'][-1]:.4f}  "
            f"train acc {history['train_acc'][-1]:.4f}  test acc {history['test_acc'][-1]:.4f}  "
            f"({time.perf_counter() - start:.2f} s)")
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--check", type=float, metavar="ACC",
                        help="exit with status 1 if the final test accuracy is below ACC")
    args = parser.parse_args(argv)
    history = train(args.epochs, args.lr, args.batch_size, args.seed, args.hidden, args.momentum)
    if args.check is not None and history["test_acc"][-1] < args.check:
        print(f"FAILED: test accuracy {history['test_acc'][-1]:.4f} < {args.check}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
