"""The progress bar ``fit``/``evaluate``/``predict`` print (Keras' ``verbose`` modes).

- ``verbose=1`` on a terminal (or in Jupyter): one live line per epoch, redrawn in place with
  ``\\r``, showing the bar, the ETA and the running loss and metrics; the finished line stays.
- ``verbose=1`` when stdout is not a terminal (a log file, CI), and ``verbose=2``: one plain
  line per epoch, so logs are not flooded with redraws.
- ``verbose=0``: silent.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .callbacks import Callback

__all__ = ["ProgressBar", "Progbar"]


def _is_live(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # a closed stream
        return False
    return "ipykernel" in sys.modules  # notebooks render \r redraws though not a TTY


def format_value(value: Any) -> str:
    """A logged number as Keras prints it: 4 decimals, scientific when tiny."""
    if isinstance(value, float) or hasattr(value, "__float__"):
        v = float(value)
        return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"
    return str(value)


def _format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _format_rate(per_step: float, unit: str) -> str:
    if per_step >= 1 or per_step == 0:
        return f"{per_step:.0f}s/{unit}"
    if per_step >= 1e-3:
        return f"{per_step * 1e3:.0f}ms/{unit}"
    return f"{per_step * 1e6:.0f}us/{unit}"


class Progbar:
    """One progress line for ``target`` steps (None if unknown).

    ``update(current, values)`` redraws the live line at most every ``interval`` seconds;
    ``update(..., finalize=True)`` writes the finished line (and, when not live, the only one).
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1,
                 interval: float = 0.05, stream: TextIO | None = None,
                 unit_name: str = "step") -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stream = stream if stream is not None else sys.stdout
        self.unit_name = unit_name
        self.live = verbose == 1 and _is_live(self.stream)
        self._start = time.perf_counter()
        self._last_draw = float("-inf")
        self._drawn = 0  # length of the live line on screen, to blank a longer old one

    def update(self, current: int, values: dict | None = None, finalize: bool = False) -> None:
        """Show ``current`` steps done, with ``values`` (name -> number) after the bar."""
        if self.verbose == 0 or (not finalize and not self.live):
            return
        now = time.perf_counter()
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        metrics = "".join(f" - {k}: {format_value(v)}" for k, v in (values or {}).items())
        target = self.target if self.target is not None else (current if finalize else None)
        count = f"{current}/{target if target is not None else 'Unknown'}"
        if not self.live:
            self.stream.write(f"{count} - {_format_duration(elapsed)} - "
                              f"{_format_rate(per_step, self.unit_name)}{metrics}\n")
            self.stream.flush()
            return
        if target:
            count = f"{current:>{len(str(target))}}/{target}"
            done = int(self.width * min(current, target) / target)
            arrow = ">" if current < target and done < self.width else ""
            count += " [" + "=" * done + arrow + "." * (self.width - done - len(arrow)) + "]"
        if finalize or target is None:
            timing = f" {_format_duration(elapsed)} {_format_rate(per_step, self.unit_name)}"
        else:
            timing = f" ETA: {_format_duration(per_step * (target - current))}"
        line = f"{count} -{timing}{metrics}"
        pad = " " * max(self._drawn - len(line), 0)
        self._drawn = len(line)
        self.stream.write("\r" + line + pad + ("\n" if finalize else ""))
        self.stream.flush()


class ProgressBar(Callback):
    """Prints progress during ``fit``, ``evaluate`` and ``predict`` (added automatically when
    ``verbose`` is not 0; Keras' ``ProgbarLogger``).

    ``stream`` defaults to ``sys.stdout`` as it is when training starts; ``interval`` is the
    least time between two redraws of the live line; ``verbose`` overrides fit's.
    """

    def __init__(self, stream: TextIO | None = None, interval: float = 0.05, width: int = 30,
                 verbose: int | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.width = width
        self.verbose = verbose
        self._in_fit = False
        self._bar: Progbar | None = None
        self._seen = 0

    def _mode(self) -> int:
        v = self.params.get("verbose", 1) if self.verbose is None else self.verbose
        return 1 if v == "auto" else int(v)

    def _new_bar(self, unit: str = "step") -> None:
        self._seen = 0
        self._bar = Progbar(self.params.get("steps"), self.width, self._mode(), self.interval,
                            self.stream if self.stream is not None else sys.stdout, unit)

    def _step(self, batch: int, logs: dict | None) -> None:
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._seen, logs)

    def _finish(self, logs: dict | None) -> None:
        if self._bar is not None:
            self._bar.update(self._seen, logs, finalize=True)
            self._bar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._mode():
            stream = self.stream if self.stream is not None else sys.stdout
            stream.write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")
            stream.flush()
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._step(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    # fit's validation runs evaluate; its results join the epoch's line instead of a new bar
    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._step(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)
