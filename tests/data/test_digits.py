"""The embedded 8x8 digits: contents, split, return types and bad arguments."""

import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.data.datasets import DIGITS_NUM_TEST, load_digits


def test_full_set_shapes_dtypes_and_values():
    x, y = load_digits()
    assert isinstance(x, ember.Tensor) and isinstance(y, ember.Tensor)
    assert x.shape == (1797, 1, 8, 8) and x.dtype is ember.float32
    assert y.shape == (1797,) and y.dtype is ember.int64
    pixels = x.numpy()
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    # The source pixels are counts 0..16, so scaled values sit on a grid of sixteenths.
    np.testing.assert_array_equal(pixels * 16, np.round(pixels * 16))
    assert len(np.unique(pixels * 16)) == 17


def test_labels_cover_ten_balanced_classes():
    _, y = load_digits(as_tensor=False)
    counts = np.bincount(y, minlength=10)
    assert counts.shape == (10,) and y.min() == 0 and y.max() == 9
    assert (counts > 100).all(), counts


def test_images_are_not_blank_and_differ_by_class():
    x, y = load_digits(as_tensor=False)
    assert (x.reshape(len(x), -1).sum(axis=1) > 0).all()
    means = np.stack([x[y == k].mean(axis=0).ravel() for k in range(10)])
    # A mislabelled or shuffled conversion would make the class means nearly identical.
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert distances[~np.eye(10, dtype=bool)].min() > 0.5


def test_splits_are_disjoint_and_cover_everything():
    x_all, y_all = load_digits(as_tensor=False)
    x_train, y_train = load_digits("train", as_tensor=False)
    x_test, y_test = load_digits("test", as_tensor=False)
    assert len(x_test) == len(y_test) == DIGITS_NUM_TEST == 359
    assert len(x_train) == len(y_train) == 1797 - 359
    # The split is by position in the file: train then test is the whole set, nothing twice.
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), x_all)
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y_all)
    # Stratified: each digit gives 20% (rounded) of its images to the test split.
    counts_all, counts_test = np.bincount(y_all), np.bincount(y_test, minlength=10)
    np.testing.assert_array_equal(counts_test, np.round(counts_all * 0.2))


def test_file_is_a_permutation_of_the_source():
    from importlib import resources

    path = resources.files("ember.data.datasets").joinpath("digits.npz")
    with path.open("rb") as f, np.load(f) as npz:
        assert sorted(npz.files) == ["images", "labels", "source_index"]
        assert npz["images"].dtype == npz["labels"].dtype == np.uint8
        np.testing.assert_array_equal(np.sort(npz["source_index"]), np.arange(1797))


def test_tensor_and_numpy_forms_agree_and_are_deterministic():
    x_t, y_t = load_digits("test")
    x_n, y_n = load_digits("test", as_tensor=False)
    assert x_n.dtype == np.float32 and y_n.dtype == np.int64
    np.testing.assert_array_equal(x_t.numpy(), x_n)
    np.testing.assert_array_equal(y_t.numpy(), y_n)


def test_results_are_fresh_arrays():
    x, y = load_digits("train", as_tensor=False)
    x[:] = -1.0
    y[:] = -1
    x2, y2 = load_digits("train", as_tensor=False)
    assert x2.min() == 0.0 and y2.min() == 0


@pytest.mark.parametrize("split", ["validation", "TRAIN", 0])
def test_bad_split(split):
    with pytest.raises(ValueError, match=r"load_digits: split must be None, 'train' or 'test'"):
        load_digits(split)


def test_bad_as_tensor():
    with pytest.raises(TypeError, match="load_digits: as_tensor must be a bool, got str"):
        load_digits(as_tensor="yes")


def test_loading_does_not_import_scikit_learn():
    code = ("import sys, ember; from ember.data.datasets import load_digits; load_digits(); "
            "sys.exit('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
