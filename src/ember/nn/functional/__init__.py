"""``ember.nn.functional``: stateless layer operations and losses (PyTorch's ``F``).

- ``activation.py`` relu, gelu, softmax, ... ; ``loss.py`` cross_entropy, mse_loss, ...
- ``conv.py`` conv1d/conv2d/conv_transpose2d; ``pooling.py`` max/avg/adaptive pooling
- ``normalization.py`` batch_norm, layer_norm, group_norm; ``dropout.py`` dropout
- ``sparse.py`` embedding, one_hot; ``attention.py`` scaled_dot_product_attention, linear
- ``rnn.py`` the recurrent cells used by ``nn.RNN``/``LSTM``/``GRU``
"""

from ...ops.pad import pad  # noqa: F401  (pad lives with the movement ops)
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
