"""Callbacks that write files: ``ModelCheckpoint``, ``CSVLogger``, ``TensorBoard``.

Checkpoints go through ``ember.io.checkpoint.save`` (safetensors) and TensorBoard files
through ``ember.summary.SummaryWriter``; both are imported when training starts, so a missing
piece is reported before the first epoch rather than after the last.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from typing import Any

from .callbacks import Callback
from .callbacks_monitor import MonitorCallback

__all__ = ["ModelCheckpoint", "CSVLogger", "TensorBoard"]


def _checkpoint_saver() -> Callable[[Any, str], None]:
    try:
        from ..io.checkpoint import save
    except ImportError as err:
        raise ImportError("ModelCheckpoint needs ember.io.checkpoint.save, which could not be "
                          f"imported: {err}") from err
    return save


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) during training.

    ``filepath`` may hold ``str.format`` fields filled from the epoch (1-based) and the logs:
    ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors"``. With ``save_best_only`` a file
    is written only when ``monitor`` improves (``mode`` as in EarlyStopping; a fixed
    ``filepath`` then always holds the best model). ``save_weights_only=True`` saves
    the module's ``state_dict()`` (load it back with ``module.load_state_dict(
    ember.io.checkpoint.load(path))``); otherwise a resumable training checkpoint
    ``{"model": state_dict, "optimizer": optimizer.state_dict(), "epoch": n}`` (n 1-based,
    the epoch just finished). ember checkpoints never pickle, so the architecture is not
    saved (unlike Keras' ``.keras`` files): rebuild the module in code.
    ``save_freq`` is ``"epoch"`` or a number of batches. ``initial_value_threshold`` is the
    value the first save must beat.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__(monitor, mode)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and (not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, "
                             f"got {save_freq!r}")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._save: Callable[[Any, str], None] | None = None
        self._batches = 0
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self._save = _checkpoint_saver()
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._maybe_save(self._epoch, logs, batch=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._maybe_save(epoch, logs)

    def format_path(self, epoch: int, logs: dict | None, batch: int | None = None) -> str:
        """``filepath`` with ``{epoch}`` (1-based), ``{batch}`` and log values filled in."""
        fields = dict(logs or {})
        try:
            return self.filepath.format(epoch=epoch + 1, batch=batch, **fields)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} uses {err}, which is "
                           f"not in the logs; available: epoch, batch, "
                           f"{', '.join(fields) or '(none)'}") from None

    def _maybe_save(self, epoch: int, logs: dict | None, batch: int | None = None) -> None:
        path = self.format_path(epoch, logs, batch)
        if self.save_best_only:
            current = self.monitor_value(logs)
            if current is None:
                return
            if not self.is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                previous = "inf" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        weights = self.model._network().state_dict()
        if self.save_weights_only:
            obj: Any = weights
        else:
            obj = {"model": weights, "optimizer": self.model.optimizer.state_dict(),
                   "epoch": epoch + 1}
        save = self._save if self._save is not None else _checkpoint_saver()
        save(obj, path)


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (header: ``epoch`` then the sorted keys).

    ``append=True`` adds to an existing file (without repeating its header).
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self._write_header = not f.readline()
        self._file = open(self.filename, "a" if self.append else "w", newline="",
                          encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.params.get("do_validation") and not any(k.startswith("val_")
                                                            for k in self.keys):
                # validation_freq > 1: the first epoch has no val_ values yet
                self.keys += ["val_" + k for k in self.keys]
            if self._write_header:
                self._writer.writerow(["epoch"] + self.keys)
        # a key missing this epoch (validation skipped by validation_freq) is written as NA
        self._writer.writerow([epoch] + [_csv_value(logs.get(k, "NA")) for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


def _csv_value(v: Any) -> Any:
    return repr(float(v)) if isinstance(v, float) else v


class TensorBoard(Callback):
    """Write the logged values for TensorBoard with ``ember.summary.SummaryWriter``.

    Training values go to ``log_dir/train`` and validation values to ``log_dir/validation``
    under the tag ``epoch_<name>`` (so ``loss`` and ``val_loss`` share a chart, as in Keras).
    ``update_freq="batch"`` or an int also writes ``batch_<name>`` every that many batches.
    """

    def __init__(self, log_dir: str | os.PathLike = "logs",
                 update_freq: str | int = "epoch") -> None:
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, got {update_freq!r}")
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        self._step = 0

    def on_train_begin(self, logs=None):
        try:
            from ..summary import SummaryWriter
        except ImportError as err:
            raise ImportError("TensorBoard needs ember.summary.SummaryWriter, which could not "
                              f"be imported: {err}") from err
        self._writers = {part: SummaryWriter(os.path.join(self.log_dir, part))
                         for part in ("train", "validation")}
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.update_freq != "epoch" and self._step % self.update_freq == 0:
            for name, value in (logs or {}).items():
                self._writers["train"].add_scalar(f"batch_{name}", float(value), self._step)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            part = "validation" if name.startswith("val_") else "train"
            tag = "epoch_" + name.removeprefix("val_")
            self._writers[part].add_scalar(tag, float(value), epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
