"""The op registry and the op families. Where each op lives:

- ``registry.py``: ``Op`` (forward, vjp, infer, onnx in one object), ``apply`` (the eager path)
- ``broadcast.py``: ``expand``/``broadcast_to`` and their adjoint ``sum_to``
- ``elementwise.py`` gathers the elementwise families (import them from there):
  ``operands.py`` (infer rules, type promotion of operands, ``cast``), ``arithmetic.py``
  (``+ - * / // % **``, fmod, maximum/minimum, atan2, clamp, lerp), ``unary.py`` (exp/log,
  sqrt, trigonometric, sigmoid, erf, rounding), ``activation.py`` (relu, gelu, silu, elu,
  leaky_relu, softplus), ``selection.py`` (where, nan_to_num), ``compare.py`` (comparisons,
  logical and bitwise ops, isnan/isinf/...)
- ``reduce.py`` gathers the reductions: sum/prod/all/any/count_nonzero (itself),
  ``reduce_extreme.py`` (amax/amin, max/min, argmax/argmin), ``reduce_stats.py`` (mean,
  var/std, logsumexp, norm), ``reduce_scan.py`` (cumsum, cumprod)
- ``movement.py`` gathers the shape ops: ``movement_view.py`` (reshape/view, permute,
  transpose, squeeze, ...), ``movement_split.py`` (narrow/select, split/chunk/unbind),
  ``movement_join.py`` (cat/stack), ``movement_copy.py`` (flip, roll, repeat, clone),
  ``movement_diag.py`` (diagonal, diag, tril/triu), ``pad.py`` (``F.pad``)
- ``indexing.py``: ``t[...]`` and ``index_put``; ``gather_scatter.py``: gather/scatter,
  index_select/index_add, take, masked_fill/masked_select, nonzero
- ``linalg.py``: matmul/``@``, mm, bmm, mv, dot, outer, tensordot, addmm; ``einsum.py``
- ``nn.py``: softmax, log_softmax (numerically stable); ``norm.py``: the fused layer/batch/
  group norm cores; ``conv.py`` and ``pool.py``: conv2d and pooling with their adjoints;
  ``rnn.py``: fused LSTM/GRU/RNN layers
- ``inplace.py``: ``zero_``, ``fill_``, ``copy_``, random fills and the in-place machinery
  (version counters, rebasing); ``inplace_methods.py``: ``add_``, ``mul_``, ``exp_``,
  ``addcdiv_``, ...; ``inplace_index.py``: ``masked_fill_``, ``scatter_``, ``index_put_``, ...;
  ``inplace_views.py``: in-place ops on views (CopySlices) and view regeneration
- ``random_draw.py``: random draws as an op (re-drawn on every run of a compiled function)
"""

# isort: off
from .registry import REGISTRY, Op, TensorSpec, apply

# Load the families in dependency order here, so that whichever module a caller imports first
# (ember.nn.init reaches ops.inplace, which needs indexing before gather_scatter), the
# families' mutual imports resolve.
from . import random_draw  # noqa: F401
from . import elementwise, reduce, movement, indexing, inplace, linalg, nn  # noqa: F401
# isort: on

__all__ = ["REGISTRY", "Op", "TensorSpec", "apply"]
