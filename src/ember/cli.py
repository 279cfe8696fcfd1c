"""The ``ember`` command (also ``python -m ember``).

    ember train [--dataset {digits,mnist,fashion-mnist}] [--data-dir DIR] [--model NAME]
                [--epochs N] [--batch-size B] [--lr LR] [--optimizer NAME] [--momentum M]
                [--seed S] [--workers N] [--output-dir DIR] [--no-tensorboard] [--check ACC]

``train`` is the project's main job: by default a small CNN (``ember.models.digits_cnn``) on
the 8x8 digits embedded in the package, with ``ember.train``'s progress bar; it prints the
test accuracy and writes a checkpoint and TensorBoard logs to ``runs/<dataset>-<model>``.
``examples/train_digits.py`` is the same task written with raw autograd, no ``ember.train``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import ember

DATASETS = ("digits", "mnist", "fashion-mnist")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# Models that take images; ember.models also has sequence models (lstm_lm, transformer),
# which need token data this command does not provide.
IMAGE_MODELS = ("digits_cnn", "mlp", "lenet", "cifar_cnn", "resnet20")
SEQUENCE_MODELS = ("lstm_lm", "transformer")
DEFAULT_MODEL = {"digits": "digits_cnn", "mnist": "lenet", "fashion-mnist": "lenet"}
DEFAULT_EPOCHS = {"digits": 10, "mnist": 2, "fashion-mnist": 2}
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3}


# ---------------------------------------------------------------------- argument types
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


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {text!r}")
    return value


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
    commands.add_parser("bench", add_help=False,  # main() hands `bench` over before parsing
                        help="run the benchmark suite (python -m benchmarks; source checkout)")
    train = commands.add_parser(
        "train", help="train an image classifier (by default a small CNN on the embedded "
                      "8x8 digits: the main job)",
        description="Train an ember.models classifier with ember.train (compile/fit, progress "
                    "bar), print its test accuracy and save a checkpoint and TensorBoard logs. "
                    "With no options: a small CNN on the 8x8 digits embedded in ember, about "
                    "97%% test accuracy in a few seconds.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = train.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, default="digits",
                      help="digits is embedded; mnist and fashion-mnist are read from "
                           "--data-dir")
    data.add_argument("--data-dir", metavar="DIR",
                      help="directory with the four IDX files of mnist/fashion-mnist "
                           "(.gz or not); required for those data sets")
    data.add_argument("--download", action="store_true",
                      help="download missing mnist/fashion-mnist files into --data-dir")
    data.add_argument("--workers", type=_non_negative_int, default=0,
                      help="DataLoader worker processes (0: load in the main process)")
    model = train.add_argument_group("model and optimization")
    model.add_argument("--model", choices=IMAGE_MODELS + SEQUENCE_MODELS, metavar="NAME",
                       help=f"a model of ember.models: {', '.join(IMAGE_MODELS)} (default: "
                            "digits_cnn for digits, lenet otherwise)")
    model.add_argument("--epochs", type=_positive(int),
                       help="passes over the training set (default: 10 for digits, 2 "
                            "otherwise)")
    model.add_argument("--batch-size", type=_positive(int), default=32, help="mini-batch size")
    model.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                       help="ember.optim optimizer")
    model.add_argument("--lr", type=_positive(float),
                       help="learning rate (default: 0.05 for sgd, 0.001 otherwise)")
    model.add_argument("--momentum", type=_fraction, default=0.9, help="SGD momentum")
    model.add_argument("--seed", type=int, default=0, help="seed for weights and batch order")
    out = train.add_argument_group("output")
    out.add_argument("--output-dir", metavar="DIR",
                     help="where the checkpoints and logs go (default: runs/<dataset>-<model>)")
    out.add_argument("--no-tensorboard", action="store_true",
                     help="do not write TensorBoard logs")
    out.add_argument("--check", type=_fraction, metavar="ACC",
                     help="exit with status 1 if the final test accuracy is below ACC")
    out.add_argument("--quiet", action="store_true",
                     help="one line per epoch instead of the live progress bar")
    train.set_defaults(subparser=train)  # so that _resolve reports errors with its usage
    return parser


def _resolve(args: argparse.Namespace) -> None:
    """Fill dataset-dependent defaults; reject combinations argparse cannot see (exit 2)."""
    train = args.subparser
    args.model = args.model or DEFAULT_MODEL[args.dataset]
    if args.model in SEQUENCE_MODELS:
        train.error(f"argument --model: {args.model} is a sequence model (token ids in, "
                    f"per-token logits out); `ember train` trains image classifiers: "
                    f"{', '.join(IMAGE_MODELS)}")
    args.epochs = args.epochs or DEFAULT_EPOCHS[args.dataset]
    args.lr = args.lr or DEFAULT_LR[args.optimizer]
    if args.dataset == "digits":
        if args.data_dir is not None or args.download:
            train.error("argument --data-dir/--download: the digits data set is embedded in "
                        "ember; --data-dir is for --dataset mnist or fashion-mnist")
    elif args.data_dir is None:
        train.error(f"argument --data-dir: required with --dataset {args.dataset} (the "
                    f"directory holding its IDX files; add --download to fetch them)")
    elif not args.download and not os.path.isdir(args.data_dir):
        train.error(f"argument --data-dir: {args.data_dir!r} is not a directory (add "
                    f"--download to create it and fetch {args.dataset})")
    args.output_dir = args.output_dir or os.path.join("runs", f"{args.dataset}-{args.model}")


# ---------------------------------------------------------------------- the job
class DataUnavailable(Exception):
    """The data set's files are missing or unreadable (``ember train`` exits with status 1)."""


def load_dataset(name: str, data_dir: str | None = None, download: bool = False):
    """``(x_train, y_train, x_test, y_test)``: float32 images (N, 1, H, W) standardized with
    the training set's mean and std, int64 labels."""
    from .data.datasets import MNIST, Digits, FashionMNIST

    if name == "digits":
        train, test = Digits(train=True), Digits(train=False)
    else:
        cls = MNIST if name == "mnist" else FashionMNIST
        train = cls(data_dir, train=True, download=download)
        test = cls(data_dir, train=False)
    images = []
    for split in (train, test):
        x = split.data.float()
        if x.ndim == 3:  # MNIST's raw uint8 (N, 28, 28)
            x = (x / 255.0).unsqueeze(1)
        images.append(x)
    mean, std = images[0].mean(), images[0].std()
    x_train, x_test = ((x - mean) / std for x in images)
    return x_train, train.targets, x_test, test.targets


def build_model(name: str, image_shape: tuple[int, int, int], num_classes: int):
    """``ember.models.get_model(name)`` sized for (C, H, W) images and ``num_classes``."""
    from . import models

    channels, height, width = image_shape
    sizes = {"in_channels": channels, "image_size": height, "num_classes": num_classes,
             "in_features": channels * height * width}
    constructor = inspect.signature(getattr(models, name)).parameters
    return models.get_model(name, **{k: v for k, v in sizes.items() if k in constructor})


def make_optimizer(name: str, params, lr: float, momentum: float):
    """The ``ember.optim`` optimizer called ``name``."""
    from . import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop}[name]
    return cls(params, lr=lr)


def run_train(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the training job the parsed ``args`` describe; returns the test metrics plus
    ``checkpoint``, ``log_dir`` and ``seconds``."""
    from .data import DataLoader, TensorDataset
    from .io import save
    from .train import ModelCheckpoint, TensorBoard, Trainer

    start = time.perf_counter()
    ember.manual_seed(args.seed)
    try:
        x_train, y_train, x_test, y_test = load_dataset(args.dataset, args.data_dir,
                                                        args.download)
    except (OSError, ValueError) as err:  # missing, corrupt or undownloadable IDX files
        raise DataUnavailable(str(err)) from err
    num_classes = int(y_train.max().item()) + 1
    model = build_model(args.model, tuple(x_train.shape[1:]), num_classes)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum)
    trainer = Trainer(model)
    trainer.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    n_params = sum(p.numel() for p in model.parameters())
    extra = f" momentum {args.momentum}" if args.optimizer == "sgd" else ""
    log(f"ember train: {args.model} ({n_params:,} parameters) on {args.dataset} "
        f"({len(y_train):,} train / {len(y_test):,} test images), {args.epochs} epochs, "
        f"{args.optimizer} lr {args.lr:g}{extra}, batch {args.batch_size}, seed {args.seed}")

    os.makedirs(args.output_dir, exist_ok=True)
    callbacks: list = [ModelCheckpoint(os.path.join(args.output_dir, "checkpoints",
                                                    "epoch{epoch:02d}.safetensors"),
                                       save_weights_only=True)]
    log_dir = None
    if not args.no_tensorboard:
        log_dir = os.path.join(args.output_dir, "logs")
        callbacks.append(TensorBoard(log_dir))
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, num_workers=args.workers,
                        generator=ember.Generator().manual_seed(args.seed))
    # The test set is shown as validation after each epoch (a learning curve in the progress
    # bar and TensorBoard); nothing is selected on it, so the final number is a fair test.
    trainer.fit(loader, epochs=args.epochs, callbacks=callbacks,
                validation_data=(x_test, y_test), validation_batch_size=500,
                verbose=2 if args.quiet else 1)
    result = trainer.evaluate(x_test, y_test, batch_size=500, verbose=0, return_dict=True)

    checkpoint = os.path.join(args.output_dir, "model.safetensors")
    config = {k: v for k, v in vars(args).items() if k not in ("command", "subparser")}
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "epoch": args.epochs, "config": config}, checkpoint)
    with open(os.path.join(args.output_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    seconds = time.perf_counter() - start
    log(f"test accuracy {result['accuracy']:.4f}  test loss {result['loss']:.4f}  "
        f"({seconds:.1f} s)")
    log(f"checkpoint: {checkpoint}")
    if log_dir is not None:
        log(f"TensorBoard logs: {log_dir}  (view with: tensorboard --logdir {log_dir})")
    return {**result, "checkpoint": checkpoint, "log_dir": log_dir, "seconds": seconds}


def _bench(args: list[str]) -> int:
    """Run the benchmark suite, which lives beside ``src/`` in a source checkout only."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__))))
    if not os.path.isfile(os.path.join(root, "benchmarks", "runner.py")):
        print("ember bench: the benchmark suite ships with the source repository, not with "
              "the installed package; clone it and run `ember bench` from an editable install "
              "(pip install -e .[bench]) or `python -m benchmarks` in the checkout",
              file=sys.stderr)
        return 2
    import subprocess

    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return subprocess.call([sys.executable, "-m", "benchmarks", *args],
                           env={**os.environ, "PYTHONPATH": path})


def main(argv: list[str] | None = None) -> int:
    """Run the ``ember`` command; returns the exit status (2 for bad arguments, via argparse;
    1 for a failed ``--check`` or a data set that cannot be read)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # `ember bench ARGS` runs `python -m benchmarks ARGS`
        return _bench(argv[1:])
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # report it with the subcommand's usage, which lists the valid options
        getattr(args, "subparser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "train":
        _resolve(args)
        try:
            result = run_train(args)
        except DataUnavailable as err:
            print(f"ember train: {err}", file=sys.stderr)
            return 1
        if args.check is not None and result["accuracy"] < args.check:
            print(f"ember train: test accuracy {result['accuracy']:.4f} is below --check "
                  f"{args.check}", file=sys.stderr)
            return 1
    return 0
