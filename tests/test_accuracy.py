"""Models reach known accuracies on real data, trained with ember.train's compile/fit.

- default run: ``digits_cnn`` (the model of ``ember train``) on the embedded 8x8 digits
  reaches >= 95% test accuracy (about 97% in practice; a few seconds on 2 cores);
- slow: the W2 CNN (``lenet``) on real MNIST from /work/shared/data/mnist reaches >= 98.5%.
"""

from __future__ import annotations

import os
import time

import pytest

import ember
from ember import models, optim
from ember.data import DataLoader, TensorDataset
from ember.data.datasets import MNIST, Digits
from ember.train import Trainer

MNIST_DIR = os.environ.get("EMBER_MNIST_DIR", "/work/shared/data/mnist")


def _standardize(train, test):
    """Images as float tensors scaled by the training set's mean and std."""
    x_train = train.data.float().reshape(len(train), 1, *train.data.shape[-2:])
    x_test = test.data.float().reshape(len(test), 1, *test.data.shape[-2:])
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, (x_test - mean) / std


def _fit(model, train, test, epochs, lr, batch_size, seed):
    """SGD with momentum 0.9 on cross-entropy; returns (test accuracy, seconds)."""
    x_train, x_test = _standardize(train, test)
    trainer = Trainer(model)
    trainer.compile(optimizer=optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loader = DataLoader(TensorDataset(x_train, train.targets), batch_size=batch_size,
                        shuffle=True, generator=ember.Generator().manual_seed(seed))
    start = time.perf_counter()
    history = trainer.fit(loader, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = trainer.evaluate(x_test, test.targets, batch_size=500, verbose=0,
                              return_dict=True)
    return result["accuracy"], seconds


def test_digits_cnn_reaches_95_percent_on_the_embedded_digits():
    ember.manual_seed(0)
    accuracy, seconds = _fit(models.digits_cnn(), Digits(train=True), Digits(train=False),
                             epochs=10, lr=0.05, batch_size=32, seed=0)
    assert accuracy >= 0.95, accuracy
    assert seconds < 60, seconds


@pytest.mark.slow
def test_lenet_reaches_98_5_percent_on_mnist():
    if not all(os.path.exists(os.path.join(MNIST_DIR, f"{name}-idx{d}-ubyte.gz"))
               for name, d in (("train-images", 3), ("train-labels", 1),
                               ("t10k-images", 3), ("t10k-labels", 1))):
        pytest.skip(f"MNIST IDX files not found in {MNIST_DIR} (set EMBER_MNIST_DIR)")
    ember.manual_seed(0)
    accuracy, seconds = _fit(models.lenet(), MNIST(MNIST_DIR, train=True),
                             MNIST(MNIST_DIR, train=False), epochs=2, lr=0.05, batch_size=64,
                             seed=0)
    print(f"lenet on MNIST: test accuracy {accuracy:.4f} in {seconds:.0f} s")
    assert accuracy >= 0.985, accuracy
