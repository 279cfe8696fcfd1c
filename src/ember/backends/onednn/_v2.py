"""The oneDNN **v2.x** C API (``libdnnl.so.2``): enum values, memory descriptors, op descriptors.

Everything that differs between oneDNN major versions lives in a module like this one; ``_lib.py``
loads the library, picks the matching module and re-exports its names, so kernels and the RNN
binding never see the version. A v3 layer (``_v3.py``, not written: no v3 library on the machines
we test) would provide the same names: in v3 a memory descriptor is an opaque handle instead of a
struct, and primitive descriptors are created in one call per op instead of ``*_desc_init`` +
``dnnl_primitive_desc_create``; several enum values (format tags, queries) change too.

Enum values and struct sizes were read from oneDNN 2.6's ``dnnl_types.h`` (they are ABI-stable
within a major version); ``tests/backends`` checks the sizes indirectly by running every op.
"""

from __future__ import annotations

import ctypes

from .._errors import OneDNNError, OneDNNUnimplemented

MAJOR = 2

# ---------------------------------------------------------------- enum values (dnnl_types.h)

DT_F16, DT_BF16, DT_F32, DT_S32, DT_S8, DT_U8 = 1, 2, 3, 4, 5, 6

TAG_UNDEF, TAG_ANY = 0, 1
TAG_A, TAG_AB, TAG_ABC, TAG_ABCD, TAG_ABCDE = 2, 3, 4, 5, 7
TAG_ACB, TAG_ACDB = 17, 20
TAG_NCHW, TAG_NHWC, TAG_OIHW, TAG_GOIHW = TAG_ABCD, TAG_ACDB, TAG_ABCD, TAG_ABCDE
# RNN tags (aliases of the plain tags above, named as in the RNN docs)
TAG_TNC, TAG_NTC, TAG_LDNC, TAG_LDIGO, TAG_LDGOI, TAG_LDGO = 4, 23, 5, 7, 16, 5

PROP_FORWARD_TRAINING, PROP_FORWARD_INFERENCE = 64, 96
PROP_BACKWARD, PROP_BACKWARD_DATA, PROP_BACKWARD_WEIGHTS, PROP_BACKWARD_BIAS = 128, 160, 192, 193

ALG_CONVOLUTION_DIRECT, ALG_CONVOLUTION_AUTO = 1, 3
ALG_POOLING_MAX, ALG_POOLING_AVG_INCLUDE_PADDING, ALG_POOLING_AVG_EXCLUDE_PADDING = 511, 767, 1023
ALG_VANILLA_LSTM, ALG_VANILLA_GRU, ALG_LBR_GRU = 12287, 16383, 20479
RNN_UNIDIRECTIONAL_LEFT2RIGHT, RNN_FLAGS_UNDEF = 0, 0

ENGINE_CPU = 1
STREAM_DEFAULT_FLAGS = 1

QUERY_IMPL_INFO_STR = 8
QUERY_SRC_MD, QUERY_DIFF_SRC_MD, QUERY_WEIGHTS_MD, QUERY_DIFF_WEIGHTS_MD = 129, 130, 131, 132
QUERY_DST_MD, QUERY_DIFF_DST_MD, QUERY_WORKSPACE_MD, QUERY_SCRATCHPAD_MD = 133, 134, 135, 136
QUERY_EXEC_ARG_MD = 255

ARG_SRC, ARG_SRC_ITER, ARG_SRC_ITER_C = 1, 2, 3
ARG_DST, ARG_DST_ITER, ARG_DST_ITER_C = 17, 18, 19
ARG_WEIGHTS, ARG_WEIGHTS_ITER, ARG_BIAS = 33, 34, 41
ARG_WORKSPACE, ARG_SCRATCHPAD = 64, 80
ARG_DIFF_SRC, ARG_DIFF_SRC_ITER, ARG_DIFF_SRC_ITER_C = 129, 130, 131
ARG_DIFF_DST, ARG_DIFF_DST_ITER, ARG_DIFF_DST_ITER_C = 145, 146, 147
ARG_DIFF_WEIGHTS, ARG_DIFF_WEIGHTS_ITER, ARG_DIFF_BIAS = 161, 162, 169
ARG_FROM, ARG_TO = 1, 17  # reorder
ARG_SRC_LAYER, ARG_DST_LAYER, ARG_WEIGHTS_LAYER = 1, 17, 33
ARG_DIFF_SRC_LAYER, ARG_DIFF_DST_LAYER, ARG_DIFF_WEIGHTS_LAYER = 129, 145, 161

STATUS_NAMES = {0: "success", 1: "out_of_memory", 2: "invalid_arguments", 3: "unimplemented",
                4: "iterator_ends", 5: "runtime_error", 6: "not_required"}
STATUS_UNIMPLEMENTED = 3

# ---------------------------------------------------------------- struct sizes (bytes, x86-64)

MD_SIZE = 696  # sizeof(dnnl_memory_desc_t): a plain struct passed by pointer
# op descriptors are opaque to us: only their size matters (filled by *_desc_init)
OP_DESC_SIZE = {"convolution": 5976, "pooling_v2": 3288, "rnn": 15344, "inner_product": 5584,
                "matmul": 2800, "eltwise": 1416}
MAX_NDIMS = 12

Dims = ctypes.c_int64 * MAX_NDIMS
_P = ctypes.c_void_p
_I = ctypes.c_int


def dims(values) -> ctypes.Array:
    """A ``dnnl_dims_t`` (int64[12]) holding ``values``."""
    return Dims(*[int(v) for v in values])


def declare(lib: ctypes.CDLL) -> None:
    """Set argtypes/restype of the v2-only entry points ``_lib`` and the kernels call."""
    st = ctypes.c_int
    sig = {
        "dnnl_memory_desc_init_by_tag": (st, [_P, _I, _P, _I, _I]),
        "dnnl_memory_desc_init_by_strides": (st, [_P, _I, _P, _I, _P]),
        "dnnl_memory_desc_equal": (_I, [_P, _P]),
        "dnnl_memory_desc_get_size": (ctypes.c_size_t, [_P]),
        "dnnl_primitive_desc_create": (st, [_P, _P, _P, _P, _P]),
        "dnnl_reorder_primitive_desc_create": (st, [_P, _P, _P, _P, _P, _P]),
        "dnnl_dilated_convolution_forward_desc_init":
            (st, [_P, _I, _I, _P, _P, _P, _P, _P, _P, _P, _P]),
        "dnnl_dilated_convolution_backward_data_desc_init":
            (st, [_P, _I, _P, _P, _P, _P, _P, _P, _P]),
        "dnnl_dilated_convolution_backward_weights_desc_init":
            (st, [_P, _I, _P, _P, _P, _P, _P, _P, _P, _P]),
        "dnnl_pooling_v2_forward_desc_init": (st, [_P, _I, _I, _P, _P, _P, _P, _P, _P, _P]),
        "dnnl_pooling_v2_backward_desc_init": (st, [_P, _I, _P, _P, _P, _P, _P, _P, _P]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args


class MemoryDesc:
    """A v2 ``dnnl_memory_desc_t`` (a 696-byte struct we own); ``ptr`` is what the C API takes.

    Build with ``_lib.memory_desc`` / ``_lib.memory_desc_of``; compare with ``==`` (oneDNN's own
    equality); ``nbytes`` is the buffer size the layout needs (blocked layouts pad)."""

    __slots__ = ("buf", "ptr", "_lib", "_nbytes")

    def __init__(self, lib: ctypes.CDLL, src_address: int | None = None):
        self._lib = lib
        self.buf = (ctypes.c_char * MD_SIZE)()
        self.ptr = ctypes.addressof(self.buf)
        self._nbytes = None
        if src_address:  # copy of a descriptor owned by oneDNN (a primitive-desc query)
            ctypes.memmove(self.ptr, src_address, MD_SIZE)

    @property
    def nbytes(self) -> int:
        """Bytes a buffer of this layout needs."""
        if self._nbytes is None:
            self._nbytes = int(self._lib.dnnl_memory_desc_get_size(self.ptr))
        return self._nbytes

    @property
    def key(self) -> bytes:
        """The descriptor's bytes: a hashable identity for cache keys."""
        return bytes(self.buf)

    @property
    def ndims(self) -> int:
        """Number of dimensions (0 for the empty 'no memory' descriptor)."""
        return ctypes.c_int.from_address(self.ptr).value

    def __eq__(self, other) -> bool:
        return isinstance(other, MemoryDesc) and bool(
            self._lib.dnnl_memory_desc_equal(self.ptr, other.ptr))

    def __hash__(self):  # descriptors are compared, never hashed by content
        return id(self)


def memory_desc(lib, shape, dtype: int, tag: int | None = None, strides=None) -> MemoryDesc:
    """A descriptor of ``shape`` with a format ``tag`` (None: ``any``, the primitive chooses)
    or explicit element ``strides``."""
    md = MemoryDesc(lib)
    if strides is not None:
        check(lib.dnnl_memory_desc_init_by_strides(md.ptr, len(shape), dims(shape), dtype,
                                                   dims(strides)),
              "dnnl_memory_desc_init_by_strides", f"shape {tuple(shape)}, strides {strides}")
        return md
    check(lib.dnnl_memory_desc_init_by_tag(md.ptr, len(shape), dims(shape), dtype,
                                           TAG_ANY if tag is None else tag),
          "dnnl_memory_desc_init_by_tag", f"shape {tuple(shape)}, tag {tag}")
    return md


def empty_md(lib) -> MemoryDesc:
    """The zero descriptor oneDNN reads as 'no such tensor' (e.g. a convolution without bias)."""
    return MemoryDesc(lib)


def query_md(lib, pd: int, what: int, index: int = 0) -> MemoryDesc:
    """Copy of the descriptor a primitive descriptor reports (``what``: a QUERY_* value)."""
    address = lib.dnnl_primitive_desc_query_md(pd, what, index)
    return MemoryDesc(lib, address)


def check(status: int, call: str, detail: str = "") -> None:
    """Raise ``OneDNNError`` (``OneDNNUnimplemented`` for 'unimplemented') unless success."""
    if status:
        cls = OneDNNUnimplemented if status == STATUS_UNIMPLEMENTED else OneDNNError
        raise cls(call, status, STATUS_NAMES.get(status, "unknown"), detail)


# ---------------------------------------------------------------- primitive descriptors
# Each returns a ``dnnl_primitive_desc_t`` handle (an int); _lib.Primitive owns it afterwards.


def op_pd(lib, engine: int, kind: str, init: str, args: tuple, attr=None, hint=None,
          detail: str = "") -> int:
    """v2 two-step creation: ``init(op_desc, *args)`` fills an opaque op descriptor of
    ``kind`` (a key of OP_DESC_SIZE), then ``dnnl_primitive_desc_create`` picks the fastest
    implementation (``hint``: the forward pd a backward pd must match)."""
    desc = (ctypes.c_char * OP_DESC_SIZE[kind])()
    check(getattr(lib, init)(ctypes.addressof(desc), *args), init, detail)
    pd = ctypes.c_void_p()
    check(lib.dnnl_primitive_desc_create(ctypes.byref(pd), ctypes.addressof(desc), attr, engine,
                                         hint), "dnnl_primitive_desc_create", f"{init}: {detail}")
    return pd.value


def conv_forward_pd(lib, engine, prop, src, weights, bias, dst, strides, dilates, pad_l, pad_r,
                    attr=None, detail=""):
    """Convolution forward pd; ``dilates`` in oneDNN's convention (0 = dense)."""
    return op_pd(lib, engine, "convolution", "dnnl_dilated_convolution_forward_desc_init",
                 (prop, ALG_CONVOLUTION_DIRECT, src.ptr, weights.ptr, bias.ptr, dst.ptr,
                  dims(strides), dims(dilates), dims(pad_l), dims(pad_r)), attr, None, detail)


def conv_backward_data_pd(lib, engine, diff_src, weights, diff_dst, strides, dilates, pad_l,
                          pad_r, hint, attr=None, detail=""):
    """Convolution backward-data pd (``hint``: the matching forward pd)."""
    return op_pd(lib, engine, "convolution", "dnnl_dilated_convolution_backward_data_desc_init",
                 (ALG_CONVOLUTION_DIRECT, diff_src.ptr, weights.ptr, diff_dst.ptr, dims(strides),
                  dims(dilates), dims(pad_l), dims(pad_r)), attr, hint, detail)


def conv_backward_weights_pd(lib, engine, src, diff_weights, diff_bias, diff_dst, strides,
                             dilates, pad_l, pad_r, hint, attr=None, detail=""):
    """Convolution backward-weights (+bias) pd (``hint``: the matching forward pd)."""
    return op_pd(lib, engine, "convolution",
                 "dnnl_dilated_convolution_backward_weights_desc_init",
                 (ALG_CONVOLUTION_DIRECT, src.ptr, diff_weights.ptr, diff_bias.ptr, diff_dst.ptr,
                  dims(strides), dims(dilates), dims(pad_l), dims(pad_r)), attr, hint, detail)


def pooling_forward_pd(lib, engine, prop, alg, src, dst, strides, kernel, dilation, pad_l, pad_r,
                       attr=None, detail=""):
    """Pooling forward pd (``dilation`` in oneDNN's convention, 0 = dense)."""
    return op_pd(lib, engine, "pooling_v2", "dnnl_pooling_v2_forward_desc_init",
                 (prop, alg, src.ptr, dst.ptr, dims(strides), dims(kernel), dims(dilation),
                  dims(pad_l), dims(pad_r)), attr, None, detail)


def pooling_backward_pd(lib, engine, alg, diff_src, diff_dst, strides, kernel, dilation, pad_l,
                        pad_r, hint, attr=None, detail=""):
    """Pooling backward pd (``hint``: the matching forward pd)."""
    return op_pd(lib, engine, "pooling_v2", "dnnl_pooling_v2_backward_desc_init",
                 (alg, diff_src.ptr, diff_dst.ptr, dims(strides), dims(kernel), dims(dilation),
                  dims(pad_l), dims(pad_r)), attr, hint, detail)


def reorder_pd(lib, engine, src, dst, attr=None) -> int:
    """A reorder (layout conversion) pd from ``src`` to ``dst`` on the CPU engine."""
    pd = ctypes.c_void_p()
    check(lib.dnnl_reorder_primitive_desc_create(ctypes.byref(pd), src.ptr, engine, dst.ptr,
                                                 engine, attr),
          "dnnl_reorder_primitive_desc_create")
    return pd.value
