"""ember: a small deep-learning framework on NumPy, in PyTorch's and Keras' words.

Where things live:
- ``tensor.py`` the Tensor data model; ``creation.py`` tensor/zeros/arange/randn/...
- ``dtypes.py`` dtypes and PyTorch's type promotion; ``random.py`` Generator, manual_seed
- ``ops/`` every primitive op, once (see ``ops/__init__.py`` for the families)
- ``autograd/`` backward, grad, no_grad, Function, gradcheck
- ``backend/`` kernels NumPy lacks; ``backends/`` optional kernel libraries (oneDNN) and
  ``set_backend``/``get_backend``; ``errors.py`` ShapeError, DTypeError, ...
- ``threads.py`` set_num_threads/get_num_threads (OpenBLAS and oneDNN's OpenMP)
- ``nn/`` layers and losses; ``optim/`` optimizers; ``data/`` Dataset and DataLoader
- ``graph/`` graph mode: ``ember.compile`` (trace, passes, executor)
- ``train/`` the Keras-style API (imported on first use); ``io/`` ember.save / ember.load;
  ``summary/`` TensorBoard; ``models/`` ready-made models; ``cli.py`` the ``ember`` command
"""

import os as _os
import sys as _sys

# OpenBLAS's worker threads spin after every GEMM and then fight other threads for the cores
# (research/kernels.md measured up to 9x on conv-shaped work); a short timeout lets them sleep.
# Only effective when ember is imported before NumPy; an explicit user setting wins.
if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
# oneDNN's OpenMP threads (the optional onednn backend) otherwise spin-wait after each kernel
# and steal the cores from OpenBLAS (research/native.md: +16 ms -> +1 ms per alternation with
# both settings). Read when libgomp loads, i.e. on the first oneDNN use; a user setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "passive")


from . import (
    autograd,
    backends,
    data,
    dtypes,
    io,
    models,
    nn,
    ops,
    optim,
    random,
    summary,
)
from .autograd import (
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .backends import get_backend, set_backend
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    DType,
    bool_,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from .errors import (
    AutogradError,
    DTypeError,
    EmberError,
    GraphError,
    IndexingError,
    OverlapError,
    ShapeError,
)
from .graph import compile, cond  # noqa: A004  ember.compile, as torch.compile
from .io import load, save
from .ops.broadcast import broadcast_shapes, broadcast_tensors, broadcast_to, expand
from .ops.elementwise import *  # noqa: F401,F403
from .ops.elementwise import cast
from .ops.indexing import *  # noqa: F401,F403
from .ops.inplace import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.movement import *  # noqa: F401,F403
from .ops.nn import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Tensor
from .threads import get_num_threads, set_num_threads

bool = bool_  # noqa: A001  ember.bool, as torch.bool

__version__ = "0.1.0"


def __getattr__(name: str):
    # ember.train (the Keras-style API) is imported on first use: it pulls in callbacks,
    # metrics and the progress bar, which a plain PyTorch-style script never needs
    if name == "train":
        import importlib

        return importlib.import_module(".train", __name__)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
