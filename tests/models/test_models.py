"""ember.models: the registry, the workload architectures (sizes, parameter names and shapes
equal to the PyTorch twins), initialization, and errors for bad arguments and inputs.
Numerical equality with PyTorch is in tests/test_end_to_end.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember import models

from .torch_twins import twin

# parameters of each model at the workload sizes (computed by hand from the architecture)
PARAMETER_COUNTS = {
    "mlp": (784 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10),
    "lenet": (9 * 32 + 32) + (9 * 32 * 64 + 64) + (3136 * 128 + 128) + (128 * 10 + 10),
    "digits_cnn": (9 * 16 + 16) + (9 * 16 * 32 + 32) + (512 * 10 + 10),
    "cifar_cnn": (27 * 64 + 64) + (576 * 64 + 64) + (576 * 128 + 128) + (1152 * 128 + 128)
    + (8192 * 256 + 256) + (256 * 10 + 10),
    "lstm_lm": 256 * 128 + 4 * 256 * (128 + 256 + 2) + (256 * 256 + 256),
    "transformer": 1000 * 128 + 64 * 128 + 2 * (3 * 128 * 129 + 128 * 129 + 2 * 2 * 128
                                               + 512 * 129 + 128 * 513) + 1000 * 129,
    "resnet20": 269_722,  # He et al. report 0.27M
}


def test_registry_lists_every_model():
    assert set(models.MODELS) == set(PARAMETER_COUNTS)
    assert models.MODELS[0] == "digits_cnn"  # the default of `ember train`


@pytest.mark.parametrize("name", list(PARAMETER_COUNTS))
def test_architecture_matches_the_workload_and_the_torch_twin(name):
    model = models.get_model(name)
    shapes = {k: tuple(p.shape) for k, p in model.named_parameters()}
    assert shapes == {k: tuple(p.shape) for k, p in twin(name).named_parameters()}
    assert sum(p.numel() for p in model.parameters()) == PARAMETER_COUNTS[name]
    assert all(p.dtype == ember.float32 and p.requires_grad for p in model.parameters())


def test_w2_and_w3_first_dense_layers_have_the_workload_sizes():
    assert tuple(models.lenet().classifier[1].weight.shape) == (128, 3136)
    assert tuple(models.cifar_cnn().classifier[1].weight.shape) == (256, 8192)
    assert tuple(models.digits_cnn().classifier[1].weight.shape) == (10, 512)


@pytest.mark.parametrize("name, kwargs, shape, out", [
    ("mlp", dict(in_features=64, hidden=(32,), num_classes=5), (3, 1, 8, 8), (3, 5)),
    ("lenet", dict(in_channels=3, num_classes=7, image_size=16), (2, 3, 16, 16), (2, 7)),
    ("digits_cnn", dict(num_classes=4, image_size=12), (2, 1, 12, 12), (2, 4)),
    ("cifar_cnn", dict(in_channels=1, image_size=8), (2, 1, 8, 8), (2, 10)),
    ("resnet20", dict(num_classes=3, in_channels=1), (2, 1, 12, 12), (2, 3)),
])
def test_size_keywords(name, kwargs, shape, out):
    assert tuple(models.get_model(name, **kwargs)(ember.randn(*shape)).shape) == out


def test_sequence_model_size_keywords():
    lm = models.lstm_lm(vocab_size=30, embedding_dim=8, hidden_size=12, num_layers=2)
    assert tuple(lm(ember.randint(0, 30, (3, 5))).shape) == (3, 5, 30)
    tagger = models.transformer(vocab_size=20, num_classes=6, d_model=16, nhead=2,
                                dim_feedforward=32, num_layers=1, max_len=10)
    assert tuple(tagger(ember.randint(0, 20, (2, 10))).shape) == (2, 10, 6)


def test_resnet20_uses_option_a_shortcuts():
    model = models.resnet20()
    first = model.layer2[0].shortcut
    assert isinstance(first, models.PadShortcut) and list(first.parameters()) == []
    assert isinstance(model.layer1[0].shortcut, ember.nn.Identity)
    x = ember.randn(2, 16, 8, 8)
    y = first(x)
    assert tuple(y.shape) == (2, 32, 4, 4)
    np.testing.assert_array_equal(y[:, 8:24].numpy(), x[:, :, ::2, ::2].numpy())
    assert not y[:, :8].numpy().any() and not y[:, 24:].numpy().any()


def test_resnet20_initialization_follows_torchvision():
    model = models.resnet20()
    w = model.layer3[2].conv2.weight.detach().numpy()  # 64x64x3x3: kaiming normal, fan_out = 576
    assert abs(w.std() - math.sqrt(2 / 576)) < 0.05 * math.sqrt(2 / 576)
    assert (model.layer3[2].bn2.weight.detach().numpy() == 1).all()
    assert (model.layer3[2].bn2.bias.detach().numpy() == 0).all()


def test_transformer_position_embedding_is_learned_and_used():
    model = models.transformer(vocab_size=10, num_classes=3, d_model=8, nhead=2,
                               dim_feedforward=16, num_layers=1, max_len=4)
    tokens = ember.tensor([[1, 1, 1, 1]])
    out = model(tokens).detach().numpy()
    assert not np.allclose(out[0, 0], out[0, 1])  # same token, different positions
    assert "position.weight" in dict(model.named_parameters())


def test_get_model_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown model 'vgg16'; valid names are "
                                         r"digits_cnn, mlp, lenet, .*resnet20"):
        models.get_model("vgg16")


def test_get_model_rejects_bad_name_type_and_keywords():
    with pytest.raises(TypeError, match="name must be a str, got int"):
        models.get_model(3)
    with pytest.raises(TypeError, match=r"model 'lenet' got unexpected keyword argument\(s\) "
                                        r"hidden_size; it accepts in_channels, num_classes"):
        models.get_model("lenet", hidden_size=3)


@pytest.mark.parametrize("call, message", [
    (lambda: models.mlp(num_classes=0), "MLP: num_classes must be a positive int, got 0"),
    (lambda: models.mlp(hidden=(4, -1)), "MLP: hidden width must be a positive int, got -1"),
    (lambda: models.lenet(image_size=30), "LeNet: image_size must be a multiple of 4"),
    (lambda: models.lenet(in_channels=1.5), "LeNet: in_channels must be a positive int"),
    (lambda: models.digits_cnn(image_size=7), "DigitsCNN: image_size must be even"),
    (lambda: models.cifar_cnn(num_classes=True), "CifarCNN: num_classes must be a positive"),
    (lambda: models.lstm_lm(hidden_size=0), "LSTMLanguageModel: hidden_size must be a positive"),
    (lambda: models.transformer(max_len=0), "TransformerTagger: max_len must be a positive"),
    (lambda: models.resnet20(in_channels=0), "ResNet: in_channels must be a positive int"),
])
def test_bad_constructor_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name, x, error, message", [
    ("lenet", ember.randn(2, 1, 32, 32), ember.ShapeError,
     r"LeNet: expected input of shape \(N, 1, 28, 28\), got \[2, 1, 32, 32\]"),
    ("digits_cnn", ember.randn(2, 64), ember.ShapeError,
     r"DigitsCNN: expected input of shape \(N, 1, 8, 8\), got \[2, 64\]"),
    ("cifar_cnn", ember.randn(2, 1, 32, 32), ember.ShapeError,
     r"CifarCNN: expected input of shape \(N, 3, 32, 32\)"),
    ("resnet20", ember.randn(3, 32, 32), ember.ShapeError,
     r"ResNet: expected input of shape \(N, 3, H, W\), got \[3, 32, 32\]"),
    ("lstm_lm", ember.randn(2, 5), ember.DTypeError,
     "LSTMLanguageModel: expected integer token ids, got dtype"),
    ("lstm_lm", ember.randint(0, 256, (5,)), ember.ShapeError,
     r"LSTMLanguageModel: expected token ids of shape \(N, T\), got \[5\]"),
    ("transformer", ember.randint(0, 1000, (1, 65)), ember.ShapeError,
     "TransformerTagger: sequence length 65 exceeds max_len 64"),
    ("mlp", ember.randn(2, 100), ember.ShapeError,
     r"layers.0 \(Linear 784->512\): .*got input of shape \[2, 100\]"),
    ("lenet", [[1.0]], TypeError, "LeNet: expected a Tensor, got list"),
])
def test_bad_inputs_raise_clear_errors(name, x, error, message):
    with pytest.raises(error, match=message):
        models.get_model(name)(x)
