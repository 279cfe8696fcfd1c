"""Bad input to every layer of ``ember.nn``, the optimizers, the data classes and the
training API gets a clear error (what "clear" means: ``tests/_api_errors.py``).

Layers are built with valid arguments and called with a string, the other dtype family and a
wrong rank (a 0-d input; two extra leading dims), each only where PyTorch's same layer rejects
it. The last table pins the exact class and wording of the errors this audit fixed.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ember
import ember.data as edata
import ember.nn as enn
import ember.nn.functional as F
import ember.optim as eoptim
import ember.train as etrain

from ._api_errors import assert_clean, f, i, judge, leak_reason, swap_dtype, torch_rejects

torch = pytest.importorskip("torch")

# ------------------------------------------------------------------ ember.nn layers

# class -> (constructor args, input maker); loss layers take (input, target)
LAYERS: dict[str, tuple] = {
    "AdaptiveAvgPool1d": ((4,), lambda: (f(2, 3, 8),)),
    "AdaptiveAvgPool2d": ((4,), lambda: (f(2, 3, 8, 8),)),
    "AvgPool1d": ((2,), lambda: (f(2, 3, 8),)),
    "AvgPool2d": ((2,), lambda: (f(2, 3, 8, 8),)),
    "MaxPool1d": ((2,), lambda: (f(2, 3, 8),)),
    "MaxPool2d": ((2,), lambda: (f(2, 3, 8, 8),)),
    "BatchNorm1d": ((3,), lambda: (f(4, 3),)),
    "BatchNorm2d": ((3,), lambda: (f(2, 3, 4, 4),)),
    "BatchNorm3d": ((3,), lambda: (f(2, 3, 2, 2, 2),)),
    "GroupNorm": ((2, 4), lambda: (f(2, 4, 3),)),
    "LayerNorm": ((3,), lambda: (f(2, 3),)),
    "Conv1d": ((3, 4, 3), lambda: (f(2, 3, 8),)),
    "Conv2d": ((3, 4, 3), lambda: (f(2, 3, 6, 6),)),
    "ConvTranspose2d": ((3, 4, 3), lambda: (f(2, 3, 4, 4),)),
    "Linear": ((3, 4), lambda: (f(2, 3),)),
    "Embedding": ((5, 4), lambda: (i(2, 3, high=5),)),
    "Dropout": ((), lambda: (f(2, 3),)),
    "Dropout2d": ((), lambda: (f(2, 3, 4, 4),)),
    "Flatten": ((), lambda: (f(2, 3, 4),)),
    "Unflatten": ((1, (2, 3)), lambda: (f(2, 6),)),
    "Identity": ((), lambda: (f(2, 3),)),
    "RNN": ((3, 4), lambda: (f(5, 2, 3),)),
    "LSTM": ((3, 4), lambda: (f(5, 2, 3),)),
    "GRU": ((3, 4), lambda: (f(5, 2, 3),)),
    "RNNCell": ((3, 4), lambda: (f(2, 3),)),
    "LSTMCell": ((3, 4), lambda: (f(2, 3),)),
    "GRUCell": ((3, 4), lambda: (f(2, 3),)),
    "MultiheadAttention": ((4, 2), lambda: (f(3, 2, 4), f(3, 2, 4), f(3, 2, 4))),
    "TransformerEncoderLayer": ((4, 2, 8, 0.0), lambda: (f(3, 2, 4),)),
    "Softmax": ((1,), lambda: (f(2, 3),)),
    "Softmin": ((1,), lambda: (f(2, 3),)),
    "LogSoftmax": ((1,), lambda: (f(2, 3),)),
    "BCELoss": ((), lambda: (f(2, 3), f(2, 3))),
    "BCEWithLogitsLoss": ((), lambda: (f(2, 3), f(2, 3))),
    "CrossEntropyLoss": ((), lambda: (f(4, 3), i(4, high=3))),
    "NLLLoss": ((), lambda: (f(4, 3), i(4, high=3))),
    "KLDivLoss": ((), lambda: (f(2, 3), f(2, 3))),
    "L1Loss": ((), lambda: (f(2, 3), f(2, 3))),
    "MSELoss": ((), lambda: (f(2, 3), f(2, 3))),
    "HuberLoss": ((), lambda: (f(2, 3), f(2, 3))),
    "SmoothL1Loss": ((), lambda: (f(2, 3), f(2, 3))),
}
SKIP_LAYERS = {
    "Module": "abstract base", "RNNBase": "abstract base of RNN/LSTM/GRU",
    "RNNCellBase": "abstract base of the cells", "Parameter": "a tensor, not a layer",
    "Buffer": "a tensor, not a layer", "Sequential": "container; checked in tests/nn",
    "ModuleList": "container", "ModuleDict": "container", "ParameterList": "container",
    "TransformerEncoder": "a stack of TransformerEncoderLayer, which is probed",
}
# activations: built with no arguments, one float input
_ACTIVATIONS = ("CELU", "ELU", "GELU", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
                "LogSigmoid", "Mish", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softplus",
                "Softsign", "Tanh", "Tanhshrink")
LAYERS.update({n: ((), lambda: (f(2, 3),)) for n in _ACTIVATIONS})

LAYER_CASES = sorted(n for n in dir(enn) if inspect.isclass(getattr(enn, n))
                     and issubclass(getattr(enn, n), (enn.Module, ember.Tensor))
                     and n not in SKIP_LAYERS)


def test_tables_cover_every_layer():
    missing = [n for n in LAYER_CASES if n not in LAYERS]
    assert not missing, f"add a row (or a skip with a reason) for: {missing}"


def _build(name: str):
    ctor, make_inputs = LAYERS[name]
    ember.manual_seed(0)
    ours = getattr(enn, name)(*ctor)
    theirs = getattr(torch.nn, name)(*ctor)
    return ours, theirs, make_inputs()


def _wrong_ranks(x: ember.Tensor) -> list:
    return [ember.tensor(np.asarray(x.numpy().flat[0])),
            ember.tensor(x.numpy()[None, None])]


@pytest.mark.parametrize("name", LAYER_CASES)
def test_layer_bad_input(name):
    ours, theirs, inputs = _build(name)
    ours(*inputs)  # the row itself must be valid
    assert not torch_rejects(theirs, inputs, {}), f"row of {name} is not valid for PyTorch"
    names = (name, type(ours).__name__, "input", "target", "query", "key", "value")
    problems = []

    def probe(what, bad, must_raise):
        try:
            ours(*bad)
        except Exception as exc:  # noqa: BLE001
            reason = leak_reason(exc, names)
            if reason:
                problems.append(f"{what}: {reason}")
        else:
            if must_raise:
                problems.append(f"{what}: accepted")

    for k in range(len(inputs)):
        bad = list(inputs)
        bad[k] = "abc"
        if torch_rejects(theirs, bad, {}):  # nn.Identity takes anything
            probe(f"string as input {k}", bad, True)
        bad[k] = swap_dtype(inputs[k])
        if torch_rejects(theirs, bad, {}):
            probe(f"{bad[k].dtype.name} as input {k}", bad, False)
        for wrong in _wrong_ranks(inputs[k]):
            bad[k] = wrong
            if torch_rejects(theirs, bad, {}):
                probe(f"shape {tuple(wrong.shape)} as input {k}", bad, True)
    judge(f"nn.{name}", problems)


# ------------------------------------------------------------------ optimizers, data, train

OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_bad_arguments(name):
    cls = getattr(eoptim, name)
    p = enn.Parameter(f(2))
    err = assert_clean(lambda: cls("abc", lr=0.1), (name, "params"))
    assert isinstance(err, TypeError)
    err = assert_clean(lambda: cls([p], lr="abc"), (name, "lr", "learning rate"))
    assert isinstance(err, (TypeError, ValueError))
    assert_clean(lambda: cls([p], lr=-1.0), (name, "lr", "learning rate"))
    non_leaf = f(2).requires_grad_() * 2
    assert_clean(lambda: cls([non_leaf], lr=0.1), (name, "params", "leaf"))
    assert_clean(lambda: cls([], lr=0.1), (name, "params", "empty"))


def _dataset():
    return edata.TensorDataset(f(4, 3), i(4, high=3))


DATA_CALLS = {
    "TensorDataset: string": lambda: edata.TensorDataset("abc"),
    "TensorDataset: sizes differ": lambda: edata.TensorDataset(f(4, 3), i(3)),
    "DataLoader: batch_size string": lambda: edata.DataLoader(_dataset(), batch_size="abc"),
    "DataLoader: batch_size 0": lambda: edata.DataLoader(_dataset(), batch_size=0),
    "DataLoader: num_workers -1": lambda: edata.DataLoader(_dataset(), num_workers=-1),
    "DataLoader: dataset int": lambda: list(edata.DataLoader(3)),
    "Subset: string indices": lambda: edata.Subset(_dataset(), "abc")[0],
    "Subset: index out of range": lambda: edata.Subset(_dataset(), [9])[0],
    "ConcatDataset: empty": lambda: edata.ConcatDataset([]),
    "ConcatDataset: int": lambda: edata.ConcatDataset(3),
    "random_split: lengths do not sum": lambda: edata.random_split(_dataset(), [1, 1]),
    "random_split: string lengths": lambda: edata.random_split(_dataset(), "abc"),
    "RandomSampler: num_samples 0": lambda: edata.RandomSampler(_dataset(), num_samples=0),
    "SequentialSampler: int": lambda: list(edata.SequentialSampler(3)),
    "SubsetRandomSampler: int": lambda: list(edata.SubsetRandomSampler(3)),
    "WeightedRandomSampler: string weights":
        lambda: list(edata.WeightedRandomSampler("abc", 2)),
    "WeightedRandomSampler: negative weights":
        lambda: list(edata.WeightedRandomSampler([1.0, -1.0], 2)),
    "BatchSampler: batch_size 0": lambda: edata.BatchSampler(range(4), 0, False),
    "default_collate: string": lambda: edata.default_collate("abc"),
    "default_collate: shapes differ": lambda: edata.default_collate([f(2), f(3)]),
    "default_collate: empty": lambda: edata.default_collate([]),
}


@pytest.mark.parametrize("what", sorted(DATA_CALLS))
def test_data_bad_input(what):
    cls = what.split(":")[0]
    assert_clean(DATA_CALLS[what], (cls, "dataset", "batch", "indices", "lengths", "weights",
                                    "num_samples", "tensors", "size", "index", "datasets",
                                    "num_workers", "sampler", "data_source"))


def _model():
    model = etrain.Sequential(enn.Linear(3, 2))
    model.compile(optimizer="sgd", loss="cross_entropy")
    return model


TRAIN_CALLS = {
    "fit: string x": lambda: _model().fit("abc", i(4, high=2), verbose=0),
    "fit: wrong feature size": lambda: _model().fit(f(4, 5), i(4, high=2), verbose=0),
    "fit: x and y lengths differ": lambda: _model().fit(f(4, 3), i(3, high=2), verbose=0),
    "fit: float targets for cross_entropy":
        lambda: _model().fit(f(4, 3), f(4), verbose=0),
    "fit: epochs string": lambda: _model().fit(f(4, 3), i(4, high=2), epochs="x", verbose=0),
    "fit: not compiled": lambda: etrain.Sequential(enn.Linear(3, 2)).fit(f(4, 3), i(4)),
    "evaluate: string x": lambda: _model().evaluate("abc", i(4, high=2), verbose=0),
    "predict: wrong rank": lambda: _model().predict(f(3), verbose=0),
    "compile: unknown loss": lambda: etrain.Sequential(enn.Linear(3, 2)).compile(
        optimizer="sgd", loss="no_such_loss"),
    "compile: unknown optimizer": lambda: etrain.Sequential(enn.Linear(3, 2)).compile(
        optimizer="no_such_optimizer", loss="mse"),
    "Sequential: string layer": lambda: etrain.Sequential("abc"),
    "Trainer: string module": lambda: etrain.Trainer("abc"),
}


@pytest.mark.parametrize("what", sorted(TRAIN_CALLS))
def test_train_bad_input(what):
    assert_clean(TRAIN_CALLS[what], ("fit", "evaluate", "predict", "compile", "Sequential",
                                     "Trainer", "x", "y", "loss", "optimizer", "epochs",
                                     "module", "layer", "Linear", "target", "input"))


# ------------------------------------------------------------------ exact class and message

# the errors fixed by this audit, pinned down (class and wording)
EXACT = {
    "reshape str": (lambda: ember.reshape("abc", (3,)), TypeError,
                    r"^reshape\(\): argument 'input' must be Tensor, not str$"),
    "hstack str": (lambda: ember.hstack("abc"), TypeError,
                   r"^hstack\(\): argument 'tensors' must be a tuple or list of Tensors"),
    "broadcast_tensors": (lambda: ember.broadcast_tensors(f(2), "abc"), TypeError,
                          r"broadcast_tensors\(\): .*element 1 is str"),
    "broadcast_shapes": (lambda: ember.broadcast_shapes((2, 1), "abc"), TypeError,
                         r"^broadcast_shapes\(\): each shape must be an int or a sequence"),
    "zeros_like": (lambda: ember.zeros_like("abc"), TypeError,
                   r"^zeros_like\(\): argument 'input' must be Tensor, not str$"),
    "linspace": (lambda: ember.linspace("a", 1.0, 3), TypeError,
                 r"^linspace\(\): argument 'start' must be a number, got str$"),
    "normal int mean": (lambda: ember.normal(i(2, 3), f(2, 3)), ember.DTypeError,
                        r"^normal\(\): argument 'mean' must be a floating-point tensor"),
    "promote_types": (lambda: ember.promote_types("float32", ember.int64), TypeError,
                      r"^promote_types\(\): argument 'type1' must be an ember dtype"),
    "addmm dtypes": (lambda: ember.addmm(i(2, 3), f(2, 4), f(4, 3)), ember.DTypeError,
                     r"^addmm: input is int64 but the matrices are float32"),
    "addmm inner": (lambda: ember.addmm(f(2, 3), f(2, 4), f(5, 3)), ember.ShapeError,
                    r"^addmm: mm: "),
    "scatter src": (lambda: ember.scatter(f(2, 3), 1, i(2, 2, high=3), "abc"), TypeError,
                    r"^scatter\(\): src must be a Tensor or value a number, got str$"),
    "linear weight": (lambda: F.linear(f(2, 3), "abc"), TypeError,
                      r"^linear\(\): argument 'weight' must be Tensor, not str$"),
    "lstm_cell w_hh": (lambda: F.lstm_cell(f(2, 3), None, f(16, 3), i(16, 4)),
                       ember.DTypeError, r"^lstm_cell: w_hh is int64 but w_ih is float32"),
    "mha weight": (lambda: F.multi_head_attention_forward(
        f(3, 2, 4), f(3, 2, 4), f(3, 2, 4), 4, 2, "abc", None, None, None, False, 0.0,
        f(4, 4), None), TypeError, r"in_proj_weight must be an ember.Tensor or None, got str"),
    "selu int": (lambda: F.selu(i(2, 3)), ember.DTypeError,
                 r"^selu: expected a floating-point input, got int64$"),
    "Flatten str": (lambda: enn.Flatten()("abc"), TypeError,
                    r"^Flatten: expected an ember.Tensor input, got str$"),
    "DataLoader int": (lambda: edata.DataLoader(3), TypeError,
                       r"^DataLoader: dataset must be a map-style dataset"),
    "WeightedRandomSampler str": (lambda: edata.WeightedRandomSampler("abc", 2), TypeError,
                                  r"^WeightedRandomSampler: weights must be a sequence of "
                                  r"numbers"),
    "random_split str": (lambda: edata.random_split(_dataset(), "abc"), TypeError,
                         r"^random_split: lengths must be a non-empty sequence"),
}


@pytest.mark.parametrize("what", sorted(EXACT))
def test_exact_error(what):
    call, cls, pattern = EXACT[what]
    with pytest.raises(cls, match=pattern):
        call()
