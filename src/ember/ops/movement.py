"""Movement (shape) ops, gathered from their modules:

- ``movement_view.py``: views sharing memory and the version counter with their input:
  reshape/view, flatten/unflatten/ravel, permute/transpose/t/.T/.mT, movedim, squeeze/unsqueeze
- ``movement_split.py``: narrow/select (views) and split/chunk/unbind/tensor_split
- ``movement_join.py``: cat/stack, hstack/vstack/dstack, atleast_1d/2d/3d
- ``movement_copy.py``: flip, roll, repeat/tile, repeat_interleave, clone, contiguous
- ``movement_diag.py``: diagonal (a view), diag, tril, triu
- ``pad.py``: pad (``torch.nn.functional.pad``)

``expand``/``broadcast_to`` live in ``broadcast.py``. Tensor-only methods without a ``torch.``
function (``view``, ``view_as``, ``reshape_as``, ``contiguous``, ``repeat``, ``.T``, ``.mT``)
are bound onto Tensor but not exported here, as in PyTorch.
"""

from . import movement_copy, movement_diag, movement_join, movement_split, movement_view
from .movement_copy import *  # noqa: F401,F403
from .movement_diag import *  # noqa: F401,F403
from .movement_join import *  # noqa: F401,F403
from .movement_split import *  # noqa: F401,F403
from .movement_view import *  # noqa: F401,F403
from .pad import pad

__all__ = [*movement_view.__all__, *movement_split.__all__, *movement_join.__all__,
           *movement_copy.__all__, *movement_diag.__all__, "pad"]
