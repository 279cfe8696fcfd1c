"""Convert scikit-learn's bundled 8x8 handwritten digits into ember's embedded dataset file.

Source: ``sklearn.datasets.load_digits`` (scikit-learn, BSD-3-Clause), which is a copy of the
test part of the UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin and
C. Kaynak, 1998; https://archive.ics.uci.edu/dataset/80). 1,797 images of 8x8 pixels, each
pixel the count of "on" pixels in a 4x4 block of a 32x32 bitmap, so an integer in 0..16.

Output: ``src/ember/data/datasets/digits.npz`` holding, train split first, then test:

- ``images``: uint8, shape (1797, 8, 8), values 0..16;
- ``labels``: uint8, shape (1797,), values 0..9;
- ``source_index``: uint16, shape (1797,), each image's position in scikit-learn's order.

The split is a stratified random one, drawn here once with a fixed seed and stored as the order
of the file, so it never depends on the NumPy version at load time: for every digit, 20% of its
images (rounded) go to the test split, 359 in all, and the other 1,438 to the train split; both
parts are shuffled. (scikit-learn's order groups images by writer, and its last fifth is
noticeably harder than the rest: a contiguous split would measure a writer shift rather than
how well a model learned digits.) ``load_digits`` takes the last ``DIGITS_NUM_TEST`` images as
its test split. The zip entries carry a fixed timestamp so that rerunning this script reproduces
the committed file byte for byte (given the same scikit-learn data and NumPy's PCG64 stream).

This is a one-time, offline step; ember itself never imports scikit-learn. Run it with any
Python that has scikit-learn and NumPy::

    python tools/convert_digits.py            # writes src/ember/data/datasets/digits.npz
    python tools/convert_digits.py OUT.npz    # writes elsewhere
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/ember/data/datasets/digits.npz"
_FIXED_DATE = (1998, 7, 1, 0, 0, 0)  # the data set's date; any constant makes output stable
SEED = 0
TEST_FRACTION = 0.2


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def stratified_order(labels: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, int]:
    """A permutation putting a shuffled train split first and a shuffled test split last.

    Returns the permutation and the test size; each class gives ``round(TEST_FRACTION * n)``
    of its ``n`` images to the test split.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(TEST_FRACTION * len(members))
        test.append(members[:n_test])
        train.append(members[n_test:])
    train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return np.concatenate([train, test]), len(test)


def convert(out: Path) -> None:
    """Read scikit-learn's digits, check them, and write the compressed .npz to ``out``."""
    from sklearn.datasets import load_digits  # only this script needs scikit-learn

    digits = load_digits()
    images = np.asarray(digits.images)
    labels = np.asarray(digits.target)
    # The source stores small integers as float64; refuse to convert anything that is not.
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise SystemExit(f"unexpected shapes: images {images.shape}, labels {labels.shape}")
    if not np.array_equal(images, np.round(images)) or images.min() < 0 or images.max() > 16:
        raise SystemExit("unexpected pixel values: expected integers in 0..16")
    if labels.min() < 0 or labels.max() > 9:
        raise SystemExit("unexpected labels: expected 0..9")

    order, n_test = stratified_order(labels)
    arrays = {"images": images[order].astype(np.uint8), "labels": labels[order].astype(np.uint8),
              "source_index": order.astype(np.uint16)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _npy_bytes(array), compresslevel=9)
    print(f"wrote {out} ({out.stat().st_size:,} bytes): "
          f"images {arrays['images'].shape}, labels {arrays['labels'].shape}, "
          f"the last {n_test} are the test split")


if __name__ == "__main__":
    convert(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
