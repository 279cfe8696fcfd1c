"""``SummaryWriter``: log scalars, histograms, images, text and hparams for TensorBoard.

Same names, arguments and defaults as ``torch.utils.tensorboard.SummaryWriter``, so a
PyTorch training script ports by changing the import. The files are real TensorBoard event
files (``events.out.tfevents.<time>.<host>.<pid>.<n>``), written without TensorFlow,
TensorBoard or protobuf installed.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import proto, summaries
from .event_file import EventFileWriter
from .graph import graph_def

__all__ = ["SummaryWriter"]

_SESSION_START = 1  # SessionLog.START


class SummaryWriter:
    """Writes TensorBoard event files to ``log_dir``, like torch's ``SummaryWriter``.

    Args:
        log_dir: where to write; default ``runs/<Mon DD_HH-MM-SS>_<hostname><comment>``.
        comment: suffix of the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: after a crash at step T+X, resuming from step T: events with
            ``step >= purge_step`` in this run are hidden by TensorBoard.
        max_queue: events buffered before a write to disk.
        flush_secs: seconds between background flushes.
        filename_suffix: appended to the event file's name.

    Example::

        with SummaryWriter("runs/exp1") as writer:
            for step in range(100):
                writer.add_scalar("loss/train", loss, step)
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{now}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: EventFileWriter | None = None
        self.all_writers: dict[str, EventFileWriter] = {}
        self._get_file_writer()

    def _get_file_writer(self) -> EventFileWriter:
        """The writer of this run's event file, reopened (as a new file) after ``close``."""
        if self.file_writer is None or self.file_writer.closed:
            self.file_writer = EventFileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                               self.filename_suffix)
            self.all_writers = {self.log_dir: self.file_writer}
            if self.purge_step is not None:
                # a START session log at purge_step tells TensorBoard to drop later events
                # left by the crashed run (torch does the same)
                step = self.purge_step
                self.file_writer.add_event(proto.event(time.time(), step,
                                                       file_version="brain.Event:2"))
                self.file_writer.add_event(proto.event(
                    time.time(), step, session_log=proto.session_log(_SESSION_START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory the event files are written to."""
        return self.log_dir

    # ------------------------------------------------------------------ writing events
    def _write(self, values: list[bytes], global_step, walltime,
               writer: EventFileWriter | None = None) -> None:
        step = _step(global_step)
        wall = time.time() if walltime is None else float(walltime)
        (writer or self._get_file_writer()).add_event(
            proto.event(wall, step, summary=proto.summary(values)))

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Log one number (a Python number or a one-element tensor) under ``tag``.

        ``new_style`` writes a tensor for the scalars plugin (loads faster in TensorBoard);
        ``double_precision`` then keeps it in float64.
        """
        _check_tag(tag, "add_scalar")
        self._write([summaries.scalar(tag, scalar_value, new_style, double_precision)],
                    global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Log several related numbers on one chart: each key of ``tag_scalar_dict`` is
        written to its own sub-run ``<log_dir>/<main_tag>_<key>`` under tag ``main_tag``."""
        _check_tag(main_tag, "add_scalars")
        if not isinstance(tag_scalar_dict, Mapping):
            raise TypeError(f"add_scalars: tag_scalar_dict must be a dict of tag -> number, "
                            f"got {type(tag_scalar_dict).__name__}")
        self._get_file_writer()
        wall = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + str(tag))
            writer = self.all_writers.get(run)
            if writer is None or writer.closed:
                writer = self.all_writers[run] = EventFileWriter(
                    run, self.max_queue, self.flush_secs, self.filename_suffix)
            self._write([summaries.scalar(main_tag, value, owner="add_scalars")],
                        global_step, wall, writer)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Log the distribution of ``values``. ``bins``: 'tensorflow' (exponential buckets,
        the default), an int, a sequence of edges or a ``numpy.histogram`` rule name."""
        _check_tag(tag, "add_histogram")
        self._write([summaries.histogram(tag, values, bins, max_bins)], global_step, walltime)

    def add_histogram_raw(self, tag: str, min: float, max: float, num: float, sum: float,
                          sum_squares: float, bucket_limits: Any, bucket_counts: Any,
                          global_step: int | None = None, walltime: float | None = None) -> None:
        """Log a histogram from precomputed statistics; ``bucket_limits[i]`` is the right
        edge of ``bucket_counts[i]``."""
        _check_tag(tag, "add_histogram_raw")
        self._write([summaries.histogram_raw(tag, min, max, num, sum, sum_squares,
                                             bucket_limits, bucket_counts)],
                    global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """Log an image: floats in [0, 1] (scaled by 255) or uint8 in [0, 255], with 1, 3
        or 4 channels; ``dataformats`` is 'CHW' (default), 'HWC' or 'HW'."""
        _check_tag(tag, "add_image")
        self._write([summaries.image(tag, img_tensor, dataformats)], global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """Log a batch of images as one grid, eight per row (``dataformats`` 'NCHW' or
        'NHWC')."""
        _check_tag(tag, "add_images")
        self._write([summaries.image(tag, img_tensor, dataformats, owner="add_images")],
                    global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a string (rendered as Markdown by TensorBoard's Text tab)."""
        _check_tag(tag, "add_text")
        self._write([summaries.text(tag, text_string)], global_step, walltime)

    def add_hparams(self, hparam_dict: Mapping[str, Any], metric_dict: Mapping[str, Any],
                    hparam_domain_discrete: Mapping[str, list] | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """Log a set of hyperparameters and the metrics they reached, for the HParams tab.

        As in torch, this writes to a sub-run ``<log_dir>/<run_name>`` (default: the current
        time): the hparams-plugin summaries, then each metric as a scalar.
        """
        values = summaries.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        for tag, value in metric_dict.items():
            _check_tag(tag, "add_hparams")
            summaries.scalar(tag, value, owner="add_hparams")  # validate before writing
        run = os.path.join(self.log_dir, run_name or str(time.time()))
        with SummaryWriter(log_dir=run, max_queue=self.max_queue,
                           flush_secs=self.flush_secs) as w_hp:
            for value in values:
                w_hp._write([value], global_step, None)
            for tag, value in metric_dict.items():
                w_hp.add_scalar(tag, value, global_step)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Log the module structure of ``model`` as a graph for TensorBoard's Graphs tab.

        ``model`` is run once on ``input_to_model`` (a tensor or a tuple of them, as in
        torch); each submodule that runs becomes a node scoped by its path (``encoder/fc1``)
        with edges along the tensors passed between modules. ``use_strict_trace`` is accepted
        for compatibility and ignored (there is no JIT trace).
        """
        graph = graph_def(model, input_to_model)
        if verbose:
            print(graph.summary)
        self._get_file_writer().add_event(proto.event(time.time(), 0,
                                                      graph_def=graph.encoded))

    # ------------------------------------------------------------------ lifetime
    def flush(self) -> None:
        """Write pending events of every event file of this writer to disk."""
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file; a later ``add_*`` opens a new file."""
        for writer in self.all_writers.values():
            writer.close()
        self.all_writers = {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SummaryWriter(log_dir={self.log_dir!r})"


def _check_tag(tag: Any, owner: str) -> None:
    if not isinstance(tag, str):
        raise TypeError(f"{owner}: tag must be a str, got {type(tag).__name__}")


def _step(global_step: Any) -> int:
    if global_step is None:
        return 0
    if hasattr(global_step, "item"):  # a 0-d tensor or NumPy scalar
        global_step = global_step.item()
    if isinstance(global_step, bool) or not float(global_step).is_integer():
        raise TypeError(f"global_step must be an int, got {global_step!r}")
    return int(global_step)
