"""Neural-network building blocks, in PyTorch's words.

- ``module.py``: ``Module`` (registration, traversal, state_dict, train/eval, hooks, summary)
- ``parameter.py``: ``Parameter``, ``Buffer``; ``containers.py``: ``Sequential``, ``ModuleList``,
  ``ModuleDict``, ``ParameterList``; ``summary.py``: the Keras-style ``Module.summary`` table
- ``layers/``: one file per layer family (linear, conv, pooling, normalization, dropout,
  embedding, rnn, transformer, activation, loss, flatten)
- ``functional/``: the stateless operations the layers call (``ember.nn.functional``)
- ``init.py``: weight initializers; ``utils/``: ``clip_grad_norm_`` and friends
"""

from . import functional, init, utils
from .containers import ModuleDict, ModuleList, ParameterList, Sequential
from .layers.activation import *  # noqa: F401,F403
from .layers.conv import *  # noqa: F401,F403
from .layers.dropout import *  # noqa: F401,F403
from .layers.embedding import *  # noqa: F401,F403
from .layers.flatten import *  # noqa: F401,F403
from .layers.linear import *  # noqa: F401,F403
from .layers.loss import *  # noqa: F401,F403
from .layers.normalization import *  # noqa: F401,F403
from .layers.pooling import *  # noqa: F401,F403
from .layers.rnn import *  # noqa: F401,F403
from .layers.transformer import *  # noqa: F401,F403
from .module import Module
from .parameter import Buffer, Parameter
