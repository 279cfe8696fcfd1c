"""Run an ember Graph in ONNX Runtime: export once, build one InferenceSession, call it with
NumPy arrays. ``onnxruntime`` is optional (``pip install ember[onnx]``) and imported only
when a session is built, never by ``import ember``."""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

from ..errors import DTypeError, EmberError, ShapeError, shape_str
from .export import export_graph

__all__ = ["is_available", "OnnxRuntimeExecutor", "run_onnxruntime"]

_MISSING = ("ONNX Runtime is not installed: `pip install onnxruntime` (or "
            "`pip install ember[onnx]`) to run ember graphs in it")


def is_available() -> bool:
    """Whether ``onnxruntime`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except (ImportError, ValueError):
        return False


def _onnxruntime():
    try:
        return importlib.import_module("onnxruntime")
    except ImportError:
        raise EmberError(_MISSING) from None


class OnnxRuntimeExecutor:
    """An ONNX Runtime session for one Graph (or ONNX model bytes).

    The graph is exported and the session built once, here; parameters are baked in with
    their values at this moment (build a new executor after training them further).
    ``intra_op_threads`` is ONNX Runtime's thread count for one op (default 2, this project's
    machine); ``spin`` lets its idle threads busy-wait for the next op (ONNX Runtime's
    default; off here because spinning threads take the cores NumPy's BLAS and the rest of
    the program need between runs); ``optimization`` is ``"all"`` (default: fusions such as
    Conv+Relu, MatMul+Add, LayerNormalization, Gelu), ``"extended"``, ``"basic"`` or
    ``"disable"``. Calling the executor with NumPy arrays (or ember Tensors) returns the
    list of output arrays.
    """

    def __init__(self, graph, *, intra_op_threads: int = 2, spin: bool = False,
                 optimization: str = "all",
                 dynamic_batch: bool = False, input_names=None, output_names=None):
        ort = _onnxruntime()
        if isinstance(graph, (bytes, bytearray)):
            self.model = bytes(graph)
        else:
            self.model = export_graph(graph, input_names=input_names,
                                      output_names=output_names, dynamic_batch=dynamic_batch)
        levels = {"all": "ORT_ENABLE_ALL", "extended": "ORT_ENABLE_EXTENDED",
                  "basic": "ORT_ENABLE_BASIC", "disable": "ORT_DISABLE_ALL"}
        if optimization not in levels:
            raise ValueError(f"OnnxRuntimeExecutor: optimization must be one of "
                             f"{sorted(levels)}, got {optimization!r}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(intra_op_threads)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel,
                                                   levels[optimization])
        self.session = ort.InferenceSession(self.model, options,
                                            providers=["CPUExecutionProvider"])
        self.inputs = [(i.name, i.shape, _NP_TYPES.get(i.type)) for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, *arrays) -> list:
        """Run the model; one array (or Tensor) per graph input, in order."""
        if len(arrays) != len(self.inputs):
            raise TypeError(f"OnnxRuntimeExecutor: expected {len(self.inputs)} input(s) "
                            f"({', '.join(n for n, _, _ in self.inputs)}), got {len(arrays)}")
        feed = {}
        for a, (name, shape, dtype) in zip(arrays, self.inputs):
            feed[name] = _check(a, name, shape, dtype)
        return self.session.run(self.output_names, feed)


_NP_TYPES = {
    "tensor(float)": np.dtype(np.float32), "tensor(double)": np.dtype(np.float64),
    "tensor(float16)": np.dtype(np.float16), "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32), "tensor(int16)": np.dtype(np.int16),
    "tensor(int8)": np.dtype(np.int8), "tensor(uint8)": np.dtype(np.uint8),
    "tensor(bool)": np.dtype(np.bool_),
}


def _check(a, name, shape, dtype) -> np.ndarray:
    if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
        a = a.numpy()
    a = np.asarray(a)
    if dtype is not None and a.dtype != dtype:
        # float64 -> float32 and int -> int/float convert silently; a bool or a float where
        # an index is expected is a mistake worth an error
        if not (a.dtype.kind == dtype.kind or (a.dtype.kind in "iu" and dtype.kind in "iuf")):
            raise DTypeError(f"OnnxRuntimeExecutor: input '{name}' must be {dtype.name}, got "
                             f"{a.dtype.name}")
        a = a.astype(dtype)
    fixed = [s if isinstance(s, int) else None for s in shape]
    if len(fixed) != a.ndim or any(s is not None and s != n for s, n in zip(fixed, a.shape)):
        want = shape_str(tuple(s if s is not None else "batch" for s in fixed))
        raise ShapeError(f"OnnxRuntimeExecutor: input '{name}' must have shape {want}, got "
                         f"{shape_str(a.shape)}")
    return np.ascontiguousarray(a)


def run_onnxruntime(graph, *arrays, intra_op_threads: int = 2) -> list:
    """Export ``graph``, run it once in ONNX Runtime on ``arrays``, return the output arrays.
    (Build an :class:`OnnxRuntimeExecutor` to run it many times: the session costs
    milliseconds to create.)"""
    return OnnxRuntimeExecutor(graph, intra_op_threads=intra_op_threads)(*arrays)
