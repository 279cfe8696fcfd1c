"""Turning values into ``Summary.Value`` messages: scalars, histograms, images, text, hparams.

Each function takes plain data (ember tensors, NumPy arrays, Python numbers) and returns the
encoded bytes of one or more ``Summary.Value`` messages (see ``proto.py``); the writer wraps
them in Events. Conversions follow ``torch.utils.tensorboard`` so logs look the same.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from ..tensor import Tensor
from . import proto
from .png import encode_png

__all__ = ["to_numpy", "scalar", "histogram", "histogram_raw", "image", "text", "hparams",
           "tensorflow_bins"]


def to_numpy(value, owner: str, arg: str) -> np.ndarray:
    """``value`` (Tensor, ndarray, number or nested list) as an ndarray, or a TypeError."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if isinstance(value, str):
        raise TypeError(f"{owner}: {arg} must be a tensor, array or number, got str")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {arg} must be a tensor, array or number, got "
                        f"{type(value).__name__}")
    return arr


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False,
           owner: str = "add_scalar") -> bytes:
    """A scalar: ``simple_value`` (the classic form), or with ``new_style`` a 0-d tensor
    tagged for the scalars plugin (float64 with ``double_precision``)."""
    arr = to_numpy(value, owner, "scalar_value")
    if arr.size != 1:
        raise ValueError(f"{owner}: scalar_value must hold a single number, got an array of "
                         f"shape {tuple(arr.shape)} (tag {tag!r})")
    number = float(arr.reshape(()))
    if new_style:
        return proto.summary_value(tag, tensor=proto.tensor_scalar(number, double_precision),
                                   metadata=proto.summary_metadata("scalars"))
    return proto.summary_value(tag, simple_value=number)


_TENSORFLOW_BINS = None


def tensorflow_bins() -> np.ndarray:
    """TensorFlow's default histogram edges: 0 and ±1e-12 * 1.1**k below 1e20 (1549 edges)."""
    global _TENSORFLOW_BINS
    if _TENSORFLOW_BINS is None:
        # repeated multiplication, not 1.1**k: the same rounding as TensorFlow's and torch's
        positive, v = [], 1e-12
        while v < 1e20:
            positive.append(v)
            v *= 1.1
        positive = np.array(positive)
        _TENSORFLOW_BINS = np.concatenate([-positive[::-1], [0.0], positive])
    return _TENSORFLOW_BINS


def histogram(tag: str, values, bins="tensorflow", max_bins: int | None = None) -> bytes:
    """A ``HistogramProto`` of ``values`` (flattened) as torch writes it.

    ``bins`` is ``'tensorflow'`` (exponential edges), an int, a sequence of edges, or any
    ``numpy.histogram`` bin rule name ('auto', 'fd', ...). Empty leading and trailing buckets
    are trimmed, keeping one empty bucket on the left so its limit marks where data starts.
    ``max_bins`` merges groups of ``ceil(n / max_bins)`` adjacent buckets, so at most
    ``max_bins`` remain (torch merges ``n // max_bins`` and can leave more than asked).
    """
    owner = "add_histogram"
    arr = to_numpy(values, owner, "values").reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{owner}: values for tag {tag!r} are empty")
    if bins == "tensorflow":
        bins = tensorflow_bins()
    elif isinstance(bins, bool) or not isinstance(bins, (numbers.Integral, str, Sequence,
                                                          np.ndarray, Tensor)):
        raise TypeError(f"{owner}: bins must be 'tensorflow', an int, a bin rule name or a "
                        f"sequence of edges, got {type(bins).__name__}")
    elif isinstance(bins, Tensor):
        bins = bins.detach().numpy()
    as_float = arr.astype(np.float64)
    try:
        counts, edges = np.histogram(as_float, bins=bins)
    except ValueError as e:  # non-finite data with an automatic range, bad edges, ...
        raise ValueError(f"{owner}: cannot bin the values of tag {tag!r}: {e}") from None
    if max_bins is not None and len(counts) > max_bins:
        factor = -(-len(counts) // max_bins)
        pad = -len(counts) % factor
        counts = np.concatenate([counts, np.zeros(pad, counts.dtype)])
        counts = counts.reshape(-1, factor).sum(axis=1)
        edges = np.concatenate([edges[:-1:factor], edges[-1:]])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError(f"{owner}: none of the values of tag {tag!r} fall inside the bins "
                         f"[{edges[0]}, {edges[-1]}]")
    first, last = int(nonzero[0]), int(nonzero[-1])
    # TensorBoard reads bucket_limit[i] as the right edge of bucket[i]
    limits = edges[first:last + 2]
    bucket = np.concatenate([[0], counts[first:last + 1]])
    return proto.summary_value(tag, histo=proto.histogram(
        float(arr.min()), float(arr.max()), float(arr.size), float(as_float.sum()),
        float(as_float.dot(as_float)), limits, bucket))


def histogram_raw(tag: str, min: float, max: float, num: float, sum: float,
                  sum_squares: float, bucket_limits, bucket_counts) -> bytes:
    """A histogram from precomputed statistics (``add_histogram_raw``)."""
    limits = np.asarray(bucket_limits, dtype=np.float64).reshape(-1)
    counts = np.asarray(bucket_counts, dtype=np.float64).reshape(-1)
    if limits.shape != counts.shape:
        raise ValueError(f"add_histogram_raw: bucket_limits and bucket_counts must have the "
                         f"same length, got {limits.size} and {counts.size}")
    return proto.summary_value(tag, histo=proto.histogram(
        float(min), float(max), float(num), float(sum), float(sum_squares), limits, counts))


def _grid(nchw: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile a batch (N, C, H, W) into one (C, rows*H, cols*W) image, row by row."""
    n, c, h, w = nchw.shape
    cols = min(n, ncols)
    rows = -(-n // cols)
    padded = np.zeros((rows * cols, c, h, w), dtype=nchw.dtype)
    padded[:n] = nchw
    return padded.reshape(rows, cols, c, h, w).transpose(2, 0, 3, 1, 4).reshape(
        c, rows * h, cols * w)


def image(tag: str, img, dataformats: str = "CHW", owner: str = "add_image") -> bytes:
    """An image summary (PNG). Float data is taken to be in [0, 1] and scaled by 255; uint8
    data is used as is. ``dataformats`` names the axes: 'CHW', 'HWC', 'HW', or with N
    ('NCHW', 'NHWC') for a batch, which is tiled into a grid eight images wide."""
    arr = to_numpy(img, owner, "img_tensor")
    shape = tuple(arr.shape)
    fmt = dataformats.upper() if isinstance(dataformats, str) else dataformats
    if not isinstance(fmt, str) or len(set(fmt)) != len(fmt) or not set(fmt) <= set("NCHW") \
            or not {"H", "W"} <= set(fmt):
        raise ValueError(f"{owner}: dataformats must be a string of distinct axes from "
                         "'NCHW' including H and W (e.g. CHW, HWC, HW, NCHW, NHWC), got "
                         f"{dataformats!r}")
    if arr.ndim != len(fmt):
        raise ValueError(f"{owner}: img_tensor of shape {tuple(arr.shape)} has {arr.ndim} "
                         f"dims, but dataformats {dataformats!r} names {len(fmt)}")
    full = fmt + "".join(a for a in "NC" if a not in fmt)
    arr = arr.reshape(arr.shape + (1,) * (len(full) - arr.ndim))
    arr = arr.transpose([full.index(a) for a in "NCHW"])
    if arr.shape[1] not in (1, 3, 4):
        raise ValueError(f"{owner}: images need 1, 3 or 4 channels, got {arr.shape[1]} "
                         f"(shape {shape} with dataformats {dataformats!r})")
    chw = _grid(arr) if arr.shape[0] != 1 else arr[0]
    if chw.dtype != np.uint8:
        chw = np.clip(chw.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)
    hwc = np.ascontiguousarray(chw.transpose(1, 2, 0))
    height, width, channels = hwc.shape
    return proto.summary_value(
        tag, image=proto.image(height, width, channels, encode_png(hwc)))


def text(tag: str, text_string: str) -> bytes:
    """A text summary: a string tensor for the text plugin, under ``<tag>/text_summary``."""
    if not isinstance(text_string, str):
        raise TypeError(f"add_text: text_string must be a str, got "
                        f"{type(text_string).__name__}")
    return proto.summary_value(
        tag + "/text_summary", metadata=proto.summary_metadata("text"),
        tensor=proto.tensor_strings([text_string.encode("utf-8")], [1]))


# the hparams plugin's enums (tensorboard/plugins/hparams/api.proto)
_DATA_TYPE_STRING, _DATA_TYPE_BOOL, _DATA_TYPE_FLOAT64 = 1, 2, 3
_STATUS_SUCCESS = 1


def _hparams_value(tag: str, field: int, message: bytes) -> bytes:
    # HParamsPluginData: version=1 (0), experiment=2, session_start_info=3, session_end_info=4
    content = proto.raw(field, message, True)
    return proto.summary_value(tag, metadata=proto.summary_metadata("hparams", content))


def hparams(hparam_dict: Mapping, metric_dict: Mapping,
            hparam_domain_discrete: Mapping | None = None) -> list[bytes]:
    """The three hparams-plugin summaries (experiment, session start, session end).

    Numbers become FLOAT64 hparams, strings STRING and bools BOOL (torch logs bools as the
    numbers 0/1; ember keeps them booleans). ``None`` values are skipped, as in torch.
    """
    owner = "add_hparams"
    if not isinstance(hparam_dict, Mapping) or not isinstance(metric_dict, Mapping):
        raise TypeError(f"{owner}: hparam_dict and metric_dict must be dicts")
    domains = dict(hparam_domain_discrete or {})
    for name, domain in domains.items():
        if name not in hparam_dict or not isinstance(domain, (list, tuple)):
            raise ValueError(f"{owner}: hparam_domain_discrete[{name!r}] must be a list and "
                             f"{name!r} must be in hparam_dict")
    infos, values = [], {}
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, (Tensor, np.ndarray, np.generic)):
            value = to_numpy(value, owner, f"hparam_dict[{name!r}]").reshape(-1)[0].item()
        if isinstance(value, bool):
            kind = _DATA_TYPE_BOOL
        elif isinstance(value, numbers.Real):
            kind, value = _DATA_TYPE_FLOAT64, float(value)
        elif isinstance(value, str):
            kind = _DATA_TYPE_STRING
        else:
            raise ValueError(f"{owner}: hparam_dict[{name!r}] should be an int, float, str, "
                             f"bool or tensor, got {type(value).__name__}")
        values[name] = value
        # HParamInfo: name=1, type=4, domain_discrete=5 (ListValue)
        info = proto.string(1, name) + proto.uint(4, kind)
        if name in domains:
            info += proto.raw(5, proto.list_value(domains[name]), True)
        infos.append(info)
    # MetricInfo: name=1 (MetricName: group=1, tag=2)
    metrics = [proto.raw(1, proto.string(2, tag), True) for tag in metric_dict]
    # Experiment: hparam_infos=4, metric_infos=5
    experiment = (b"".join(proto.raw(4, i, True) for i in infos)
                  + b"".join(proto.raw(5, m, True) for m in metrics))
    session_start = proto.string_value_map(1, values)  # SessionStartInfo.hparams=1
    session_end = proto.uint(1, _STATUS_SUCCESS)  # SessionEndInfo.status=1
    return [_hparams_value("_hparams_/experiment", 2, experiment),
            _hparams_value("_hparams_/session_start_info", 3, session_start),
            _hparams_value("_hparams_/session_end_info", 4, session_end)]
