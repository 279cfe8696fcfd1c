"""MNIST / FashionMNIST: IDX parsing, directory layouts, clear errors, and downloads from a
local HTTP server (mirrors, MD5 checks, atomic writes). The real files are checked when present."""

import functools
import gzip
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.data import DataLoader
from ember.data.datasets import MNIST, DownloadError, FashionMNIST, read_idx

REAL_MNIST = Path("/work/shared/data/mnist")
STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def fixture_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28)),
            "train-labels-idx1-ubyte": np.array([3, 1, 4, 1, 5, 9]),
            "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28)),
            "t10k-labels-idx1-ubyte": np.array([2, 7, 1])}


def write_files(directory, gz=True, arrays=None):
    directory.mkdir(parents=True, exist_ok=True)
    arrays = fixture_arrays() if arrays is None else arrays
    for stem, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (directory / (stem + ".gz")).write_bytes(gzip.compress(data, mtime=0))
        else:
            (directory / stem).write_bytes(data)
    return arrays


@pytest.mark.parametrize("layout", [".", "MNIST/raw", "mnist"])
@pytest.mark.parametrize("gz", [True, False])
def test_reads_each_layout_gzipped_or_raw(tmp_path, layout, gz):
    arrays = write_files(tmp_path / layout, gz=gz)
    train, test = MNIST(tmp_path), MNIST(tmp_path, train=False)
    assert len(train) == 6 and len(test) == 3
    assert train.data.dtype is ember.uint8 and train.data.shape == (6, 28, 28)
    assert train.targets.dtype is ember.int64 and train.targets.tolist() == [3, 1, 4, 1, 5, 9]
    image, label = test[1]
    assert image.shape == (1, 28, 28) and image.dtype is ember.float32 and label == 7
    expected = arrays["t10k-images-idx3-ubyte"][1].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(image.numpy()[0], expected)


def test_transforms_and_batches(tmp_path):
    write_files(tmp_path)
    plain = MNIST(tmp_path)
    fast = next(iter(DataLoader(plain, batch_size=6)))
    # A wrapper is not default_collate itself, so this loader takes the per-item path.
    per_item = next(iter(DataLoader(plain, batch_size=6,
                                    collate_fn=lambda b: ember.data.default_collate(b))))
    for a, b in zip(fast, per_item):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.dtype is b.dtype
    assert fast[0].shape == (6, 1, 28, 28)
    shifted = MNIST(tmp_path, transform=lambda x: x - 0.5, target_transform=lambda y: y + 10)
    image, label = shifted[0]
    np.testing.assert_allclose(image.numpy(), plain[0][0].numpy() - 0.5)
    assert label == 13
    assert MNIST.classes[3] == "3 - three" and plain.class_to_idx["9 - nine"] == 9
    assert "Number of datapoints: 6" in repr(plain)


def test_missing_files_error_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and str(tmp_path / "MNIST" / "raw") in message
    assert "download=True" in message and "https://ossci-datasets.s3.amazonaws.com" in message


def test_corrupt_files_are_named(tmp_path):
    write_files(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    labels = (tmp_path / "train-labels-idx1-ubyte.gz").read_bytes()
    images.write_bytes(labels)  # a label file where images should be
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz is not an IDX file.*"
                                         r"magic number 0x00000801, expected magic number "
                                         r"0x00000803"):
        MNIST(tmp_path)
    images.write_bytes(gzip.compress(idx_bytes(np.zeros((6, 28, 28)))[:-5]))
    with pytest.raises(ValueError, match="declares shape .6, 28, 28.*truncated or corrupt"):
        MNIST(tmp_path)
    images.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not a readable IDX"):
        MNIST(tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    arrays = fixture_arrays()
    arrays["train-labels-idx1-ubyte"] = np.array([1, 2])
    write_files(tmp_path, arrays=arrays)
    with pytest.raises(ValueError, match="6 images but the label file has 2 labels"):
        MNIST(tmp_path)


def test_read_idx_rejects_wrong_rank(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(np.zeros((2, 3))))
    assert read_idx(path, 2).shape == (2, 3)
    with pytest.raises(ValueError, match="with 3 dims"):
        read_idx(path, 3)


def test_fashion_mnist_found_in_system_dirs(tmp_path, monkeypatch):
    write_files(tmp_path / "usr-share")
    monkeypatch.setattr(FashionMNIST, "system_dirs", [str(tmp_path / "usr-share")])
    ds = FashionMNIST(tmp_path / "empty-root")
    assert len(ds) == 6 and ds.classes[9] == "Ankle boot"
    with pytest.raises(FileNotFoundError, match="fashion-mnist.s3-website"):
        monkeypatch.setattr(FashionMNIST, "system_dirs", [])
        FashionMNIST(tmp_path / "empty-root")


# ------------------------------------------------------------------ downloads


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving small IDX fixtures; yields (base URL, md5s)."""
    served = tmp_path / "served"
    write_files(served)
    md5s = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in served.iterdir()}
    handler = functools.partial(_Quiet, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", md5s
    httpd.shutdown()
    httpd.server_close()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def patch_sources(monkeypatch, mirrors, md5s):
    monkeypatch.setattr(MNIST, "mirrors", mirrors)
    monkeypatch.setattr(MNIST, "resources", [(s + ".gz", md5s[s + ".gz"]) for s in STEMS])


def test_download_into_torchvision_layout_with_fallback_mirror(tmp_path, server, monkeypatch):
    url, md5s = server
    patch_sources(monkeypatch, [closed_port_url(), url], md5s)
    root = tmp_path / "root"
    ds = MNIST(root, download=True)
    raw = root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(s + ".gz" for s in STEMS)
    assert ds.targets.tolist() == [3, 1, 4, 1, 5, 9]
    # Present files are not fetched again: a dead mirror does not matter now.
    patch_sources(monkeypatch, [closed_port_url()], md5s)
    assert len(MNIST(root, train=False, download=True)) == 3


def test_download_bad_checksum_leaves_nothing(tmp_path, server, monkeypatch):
    url, md5s = server
    md5s = dict(md5s, **{"train-images-idx3-ubyte.gz": "0" * 32})
    patch_sources(monkeypatch, [url], md5s)
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match=r"train-images-idx3-ubyte.gz: checksum mismatch "
                                            r"\(MD5 [0-9a-f]{32}, expected 0{32}\)"):
        MNIST(root, download=True)
    leftovers = [p.name for p in (root / "MNIST" / "raw").iterdir()]
    assert "train-images-idx3-ubyte.gz" not in leftovers
    assert not [n for n in leftovers if n.endswith(".part")]


def test_download_server_down(tmp_path, monkeypatch):
    dead = closed_port_url()
    patch_sources(monkeypatch, [dead], {s + ".gz": None for s in STEMS})
    with pytest.raises(DownloadError) as info:
        MNIST(tmp_path, download=True)
    message = str(info.value)
    assert f"{dead}train-images-idx3-ubyte.gz" in message and "refused" in message.lower()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, OSError)


# ------------------------------------------------------------------ the real data


def test_real_mnist():
    if not (REAL_MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found in {REAL_MNIST}")
    train, test = MNIST(REAL_MNIST), MNIST(REAL_MNIST, train=False)
    assert len(train) == 60000 and len(test) == 10000
    train_counts = np.bincount(train.targets.numpy(), minlength=10)
    test_counts = np.bincount(test.targets.numpy(), minlength=10)
    assert train_counts[1] == 6742 and train_counts[5] == 5421 and train_counts.sum() == 60000
    assert test_counts[0] == 980 and test_counts[1] == 1135
    assert train.targets[:5].tolist() == [5, 0, 4, 1, 9]
    image, label = train[0]
    assert label == 5 and 0.0 == image.numpy().min() and image.numpy().max() == 1.0
