"""Ready-made models: the benchmark workloads (``/work/shared/WORKLOADS.md``) and more.

Each constructor takes keyword arguments for sizes, with the workload's values as defaults:

- ``mlp.py``        ``mlp()``        W1: MLP 784-512-512-10, ReLU
- ``lenet.py``      ``lenet()``      W2: the MNIST CNN; ``digits_cnn()``: the 8x8-digits CNN
- ``cifar_cnn.py``  ``cifar_cnn()``  W3: the CIFAR CNN (conv 64, 64, 128, 128; linear 8192-256)
- ``lstm_lm.py``    ``lstm_lm()``    W4: LSTM language model, logits (N, T, 256)
- ``transformer.py`` ``transformer()`` W5: Transformer encoder, per-token logits (N, T, 1000)
- ``resnet.py``     ``resnet20()``   ResNet-20 for CIFAR-10 (option-A shortcuts)

``get_model(name, **kwargs)`` builds one by name; ``MODELS`` lists the names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from ..nn import Module
from .cifar_cnn import CifarCNN, cifar_cnn
from .lenet import DigitsCNN, LeNet, digits_cnn, lenet
from .lstm_lm import LSTMLanguageModel, lstm_lm
from .mlp import MLP, mlp
from .resnet import BasicBlock, PadShortcut, ResNet, resnet20
from .transformer import TransformerTagger, transformer

_REGISTRY: dict[str, Callable[..., Module]] = {
    "digits_cnn": digits_cnn,
    "mlp": mlp,
    "lenet": lenet,
    "cifar_cnn": cifar_cnn,
    "lstm_lm": lstm_lm,
    "transformer": transformer,
    "resnet20": resnet20,
}

MODELS: tuple[str, ...] = tuple(_REGISTRY)
"""The names ``get_model`` accepts."""


def get_model(name: str, **kwargs) -> Module:
    """Build the model called ``name`` (one of ``MODELS``) with the constructor's ``kwargs``.

    Example::

        model = ember.models.get_model("lenet", num_classes=47)
    """
    if not isinstance(name, str):
        raise TypeError(f"get_model: name must be a str, got {type(name).__name__}")
    try:
        constructor = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"get_model: unknown model {name!r}; valid names are "
                         f"{', '.join(MODELS)}") from None
    accepted = inspect.signature(constructor).parameters
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"get_model: model {name!r} got unexpected keyword argument(s) "
                        f"{', '.join(unknown)}; it accepts {', '.join(accepted)}")
    return constructor(**kwargs)


__all__ = [
    "MODELS", "get_model",
    "mlp", "lenet", "digits_cnn", "cifar_cnn", "lstm_lm", "transformer", "resnet20",
    "MLP", "LeNet", "DigitsCNN", "CifarCNN", "LSTMLanguageModel", "TransformerTagger",
    "ResNet", "BasicBlock", "PadShortcut",
]
