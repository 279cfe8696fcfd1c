"""The op registry and the op families, one file each.

- ``registry.py``: ``Op`` (forward, vjp, infer, onnx in one object), ``apply`` (the eager path)
- ``broadcast.py``: ``expand``/``broadcast_to`` and their adjoint ``sum_to``
- ``elementwise.py``: arithmetic, math, activations, comparisons, logic, ``where``, ``clamp``
- ``reduce.py``: sum, mean, prod, var/std, max/min, logsumexp, cumsum, norm, all/any, ...
- ``movement.py``: reshape/view, permute, transpose, squeeze, cat/stack/split, flip, roll, pad, ...
- ``indexing.py``: ``t[...]`` and ``t[...] = v``, gather/scatter, index_select, masked_fill, ...
- ``linalg.py``: matmul/``@``, bmm, mm, mv, dot, outer, einsum, tensordot
- ``nn.py``: softmax, log_softmax (numerically stable)
- ``inplace.py``: ``add_``, ``mul_``, ``zero_``, ``copy_``, ... with version-counter safety
"""

from .registry import REGISTRY, Op, TensorSpec, apply

__all__ = ["REGISTRY", "Op", "TensorSpec", "apply"]
