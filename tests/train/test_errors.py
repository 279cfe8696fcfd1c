"""Bad input to compile/fit/evaluate/predict: error class and message."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn, optim, train

from .helpers import blobs, mlp

X, Y = blobs(10)


def _compiled(**kw):
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy", **kw)
    return trainer


def test_unknown_names_list_the_valid_ones():
    trainer = train.Trainer(mlp())
    with pytest.raises(ValueError, match="compile: unknown optimizer 'adamm'; valid names are "
                                         "adagrad, adam, adamw, rmsprop, sgd"):
        trainer.compile("adamm", "mse")
    with pytest.raises(ValueError, match="compile: unknown loss 'crossentropy'; valid names are "
                                         "binary_crossentropy, categorical_crossentropy, mae, "):
        trainer.compile("sgd", "crossentropy")
    with pytest.raises(ValueError, match="compile: unknown metric 'f1'; valid names are acc, "
                                         "accuracy, binary_accuracy, "):
        trainer.compile("sgd", "mse", metrics=["f1"])


def test_names_are_case_insensitive_and_build_keras_learning_rates():
    trainer = train.Trainer(mlp())
    trainer.compile("SGD", "MSE")
    assert isinstance(trainer.optimizer, optim.SGD)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.01
    trainer.compile("adamw", "mse")
    assert isinstance(trainer.optimizer, optim.AdamW)


def test_fit_before_compile():
    with pytest.raises(RuntimeError, match=r"fit: the model must be compiled first; call "
                                           r"compile\(optimizer=..., loss=..., metrics=\[...\]\) "
                                           r"before fit\(\)"):
        train.Trainer(mlp()).fit(X, Y)


def test_x_y_length_mismatch_names_both_lengths():
    with pytest.raises(ember.ShapeError, match="fit: x and y must have the same number of "
                                               "samples, but x has 10 and y has 9"):
        _compiled().fit(X, Y[:9], verbose=0)
    with pytest.raises(ember.ShapeError, match="evaluate: x and y must have the same number of "
                                               "samples, but x has 10 and y has 11"):
        _compiled().evaluate(X, np.concatenate([Y, Y[:1]]), verbose=0)
    with pytest.raises(ember.ShapeError, match="fit: the arrays of x have different numbers of "
                                               "samples: 10, 9"):
        _compiled().fit((X, X[:9]), Y, verbose=0)


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5, "0.2"])
def test_validation_split_out_of_range(split):
    with pytest.raises(ValueError, match=r"fit: validation_split must be a float in \[0, 1\), "
                                         rf"got {split!r}"):
        _compiled().fit(X, Y, validation_split=split, verbose=0)


def test_validation_split_leaving_nothing_and_with_a_loader():
    with pytest.raises(ValueError, match="fit: validation_split=0.95 leaves no training "
                                         "samples out of 10"):
        _compiled().fit(X, Y, validation_split=0.95, verbose=0)
    with pytest.raises(ValueError, match="fit: validation_split works only with array inputs"):
        _compiled().fit([(X, Y)], validation_split=0.5, verbose=0)


def test_loader_with_y_or_batch_size_and_bad_x_types():
    loader = [(X, Y)]
    with pytest.raises(ValueError, match="fit: y must be None when x is a DataLoader"):
        _compiled().fit(loader, Y, verbose=0)
    with pytest.raises(ValueError, match="fit: batch_size must be None when x is a DataLoader"):
        _compiled().fit(loader, batch_size=4, verbose=0)
    with pytest.raises(TypeError, match="fit: x must be an ember tensor, a NumPy array or an "
                                        "iterable of \\(inputs, targets\\) batches such as a "
                                        "DataLoader, got int"):
        _compiled().fit(3, verbose=0)
    with pytest.raises(TypeError, match="fit: y must be an ember tensor or NumPy array"):
        _compiled().fit(X, list(Y), verbose=0)
    with pytest.raises(ValueError, match="train_step: a batch must be \\(inputs, targets\\), got "
                                         "a tuple of 3 elements"):
        _compiled().fit([(X, Y, Y)], verbose=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="fit: batch_size must be a positive int, got 0"):
        _compiled().fit(X, Y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="fit: verbose must be 'auto', 0, 1 or 2, got 3"):
        _compiled().fit(X, Y, verbose=3)
    with pytest.raises(ValueError, match="fit: epochs must be an int >= 0, got -1"):
        _compiled().fit(X, Y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="fit: steps must be a positive int or None, got 0"):
        _compiled().fit(X, Y, steps_per_epoch=0, verbose=0)


def test_bad_compile_objects():
    trainer = train.Trainer(mlp())
    other = mlp(seed=4)
    with pytest.raises(ValueError, match="compile: the SGD given holds none of the model's "
                                         "parameters"):
        trainer.compile(optim.SGD(other.parameters(), lr=0.1), "mse")
    with pytest.raises(TypeError, match=r"compile: loss must be an instance, got the class "
                                        r"CrossEntropyLoss \(write CrossEntropyLoss\(\)\)"):
        trainer.compile("sgd", nn.CrossEntropyLoss)
    with pytest.raises(TypeError, match=r"compile: metrics must be instances, got the class "
                                        r"Precision"):
        trainer.compile("sgd", "mse", metrics=[train.metrics.Precision])
    with pytest.raises(ValueError, match="compile: two metrics would be logged as 'precision'"):
        trainer.compile("sgd", "mse", metrics=["precision", train.metrics.Precision()])
    with pytest.raises(TypeError, match="compile: optimizer must be a name, an "
                                        "ember.optim.Optimizer or a callable"):
        trainer.compile(0.1, "mse")
    with pytest.raises(TypeError, match="Trainer: module must be an ember.nn.Module, got "
                                        "function"):
        train.Trainer(lambda x: x)


def test_loss_that_is_not_a_scalar():
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", nn.CrossEntropyLoss(reduction="none"))
    with pytest.raises(ValueError, match=r"compute_loss: the loss must be a single number "
                                         r"\(a mean\), got \[10\]; use reduction='mean'"):
        trainer.fit(X, Y, batch_size=10, verbose=0)


def test_shape_errors_from_the_model_keep_their_path():
    trainer = _compiled()
    with pytest.raises(ember.ShapeError, match=r"^0 \(Linear"):
        trainer.fit(np.zeros((4, 5), np.float32), Y[:4], verbose=0)


def test_predict_on_empty_iterable():
    with pytest.raises(ValueError, match="predict: the data yielded no batches"), \
            pytest.warns(UserWarning, match="the data yielded no batches"):
        train.Trainer(mlp()).predict(iter([]), verbose=0)
