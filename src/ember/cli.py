"""The ``ember`` command (also ``python -m ember``).

    ember train [--epochs N] [--lr LR] [--batch-size B] [--seed S] [--hidden H] [--check ACC]

``train`` is the project's main job: a 64-H-10 MLP on the embedded 8x8 digits, trained with raw
autograd and SGD with momentum. It is the program of ``examples/train_digits.py`` (kept in
step by ``tests/test_examples.py``) and will move onto ``ember.nn``/``ember.optim`` when those
land.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable

import ember
from ember import Tensor
from ember.data.datasets import load_digits


def _mlp_init(sizes: list[int], generator: ember.Generator) -> list[Tensor]:
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = ember.randn(fan_in, fan_out, generator=generator) * math.sqrt(2.0 / fan_in)  # Kaiming
        params += [w.requires_grad_(), ember.zeros(fan_out, requires_grad=True)]
    return params


def _mlp_forward(params: list[Tensor], x: Tensor) -> Tensor:
    for i in range(0, len(params), 2):
        x = x @ params[i] + params[i + 1]
        if i + 2 < len(params):
            x = x.relu()
    return x


def _accuracy(params: list[Tensor], x: Tensor, y: Tensor) -> float:
    with ember.no_grad():
        return (_mlp_forward(params, x).argmax(dim=1) == y).float().mean().item()


def train_digits(epochs: int = 10, lr: float = 0.05, batch_size: int = 32, seed: int = 0,
                 hidden: int = 256, momentum: float = 0.9,
                 log: Callable[[str], None] | None = print) -> dict[str, list[float]]:
    """Train the digits MLP; returns per-epoch ``loss``, ``train_acc`` and ``test_acc`` lists.

    Deterministic for a given ``seed`` (weights and batch order come from one seeded
    ``ember.Generator``). ``log`` receives one line per epoch; pass ``None`` for silence.
    """
    generator = ember.Generator().manual_seed(seed)
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    x_train = x_train.reshape(x_train.shape[0], -1)
    x_test = x_test.reshape(x_test.shape[0], -1)
    # Centre and scale with the training set's statistics: SGD converges faster on them.
    mean, std = x_train.mean(), x_train.std()
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    params = _mlp_init([64, hidden, 10], generator)
    velocities = [ember.zeros_like(p) for p in params]
    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    n = x_train.shape[0]
    for epoch in range(1, epochs + 1):
        start, total_loss = time.perf_counter(), 0.0
        order = ember.randperm(n, generator=generator)
        for first in range(0, n, batch_size):
            batch = order[first:first + batch_size]
            log_probs = ember.log_softmax(_mlp_forward(params, x_train[batch]), dim=1)
            loss = -log_probs.gather(1, y_train[batch].unsqueeze(1)).mean()  # NLL
            loss.backward()
            with ember.no_grad():
                for p, v in zip(params, velocities):
                    v.mul_(momentum).add_(p.grad)
                    p.sub_(lr * v)
                    p.grad = None
            total_loss += loss.item() * batch.shape[0]
        history["loss"].append(total_loss / n)
        history["train_acc"].append(_accuracy(params, x_train, y_train))
        history["test_acc"].append(_accuracy(params, x_test, y_test))
        if log is not None:
            log(f"epoch {epoch:3d}  loss {history['loss'][-1]:.4f}  "
                f"train acc {history['train_acc'][-1]:.4f}  "
                f"test acc {history['test_acc'][-1]:.4f}  ({time.perf_counter() - start:.2f} s)")
    return history


def _positive(kind: type) -> Callable[[str], int | float]:
    """An argparse ``type`` accepting only numbers > 0, with a message naming the rule."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0 or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ember`` command."""
    parser = argparse.ArgumentParser(
        prog="ember", description="ember: a small deep-learning framework on NumPy.")
    parser.add_argument("--version", action="version", version=f"ember {ember.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser(
        "train", help="train an MLP on the embedded 8x8 digits (the main job)",
        description="Train a 64-HIDDEN-10 MLP on the embedded 8x8 handwritten digits with "
                    "raw autograd and SGD with momentum; print per-epoch loss and accuracy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--epochs", type=_positive(int), default=10, help="passes over the data")
    train.add_argument("--lr", type=_positive(float), default=0.05, help="learning rate")
    train.add_argument("--batch-size", type=_positive(int), default=32, help="mini-batch size")
    train.add_argument("--seed", type=int, default=0, help="seed for weights and batch order")
    train.add_argument("--hidden", type=_positive(int), default=256, help="hidden units")
    train.add_argument("--momentum", type=_fraction, default=0.9, help="SGD momentum")
    train.add_argument("--check", type=_fraction, metavar="ACC",
                       help="exit with status 1 if the final test accuracy is below ACC")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``ember`` command; returns the exit status (2 for bad arguments, via argparse)."""
    args = build_parser().parse_args(argv)
    if args.command == "train":
        history = train_digits(args.epochs, args.lr, args.batch_size, args.seed, args.hidden,
                               args.momentum)
        final = history["test_acc"][-1]
        if args.check is not None and final < args.check:
            print(f"ember train: test accuracy {final:.4f} is below --check {args.check}",
                  file=sys.stderr)
            return 1
    return 0
