"""MNIST and Fashion-MNIST from the four standard IDX files, as ``torchvision.datasets``.

Files are looked for (uncompressed or ``.gz``) directly in ``root``, in ``root/MNIST/raw``
(torchvision's layout, so an existing torchvision download is reused) and in ``root/mnist``;
Fashion-MNIST also in ``root/FashionMNIST/raw``, ``root/fashion-mnist`` and in system data
directories (``FashionMNIST.system_dirs``, where a distribution package may install them).
``download=True`` fetches missing files into ``root/<Class>/raw`` with MD5 verification.

ember has no image library, so where torchvision returns a PIL image, ember returns what
``transforms.ToTensor()`` would make of it: a float32 tensor ``[1, 28, 28]`` in ``[0, 1]``.
``transform`` receives that tensor. ``.data`` (uint8 ``[N, 28, 28]``) and ``.targets`` (int64
``[N]``) are the raw arrays as tensors, as in torchvision.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ...tensor import _make
from ._labeled import LabeledImages
from .download import download_file

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte) and the number of dims.
_IDX_UBYTE = 0x08


def _open(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def read_idx(path: str | os.PathLike, ndim: int, how_to_get: str = "") -> np.ndarray:
    """Read an unsigned-byte IDX file (optionally gzipped) with ``ndim`` dimensions.

    Raises ValueError naming the file when it is not valid gzip, has the wrong magic number
    or is shorter or longer than its header says.
    """
    path = Path(path)
    hint = f"; {how_to_get}" if how_to_get else ""
    try:
        raw = _open(path)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path} is not a readable IDX file ({type(e).__name__}: {e}){hint}"
                         ) from None
    header = 4 + 4 * ndim
    expected_magic = (_IDX_UBYTE << 8) | ndim
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic != expected_magic:
        found = "a file shorter than 4 bytes" if magic is None else f"magic number {magic:#010x}"
        raise ValueError(f"{path} is not an IDX file of unsigned bytes with {ndim} dims: found "
                         f"{found}, expected magic number {expected_magic:#010x}{hint}")
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, shorter than its "
                         f"{header}-byte header{hint}")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    size = int(np.prod(dims))
    if len(raw) != header + size:
        raise ValueError(f"{path} has {len(raw) - header} bytes of data but its header "
                         f"declares shape {dims} ({size} bytes); the file is truncated or "
                         f"corrupt{hint}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


class MNIST(LabeledImages):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28.

    Args:
        root: directory holding the files (see the module docstring for where they may be).
        train: the training split (True) or the test split (False).
        transform: applied to each image, a float32 tensor ``[1, 28, 28]`` in ``[0, 1]``.
        target_transform: applied to each label (a Python int).
        download: fetch missing files from ``mirrors`` into ``root/<Class>/raw``.

    Items are ``(image, label)``. Example::

        train = MNIST("~/data", train=True, download=True)
        loader = DataLoader(train, batch_size=64, shuffle=True)
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    folders = ["mnist"]
    system_dirs: list[str] = []

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.root = Path(os.path.expanduser(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        if download:
            self.download()
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"), 3, self._how_to_get())
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"), 1, self._how_to_get())
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{type(self).__name__}: the {prefix} image file has "
                             f"{images.shape[0]} images but the label file has "
                             f"{labels.shape[0]} labels")
        self._images = images
        self._labels = labels.astype(np.int64)
        self.data = _make(images)
        self.targets = _make(self._labels)

    @property
    def raw_folder(self) -> Path:
        """Where ``download`` puts the files: ``root/<Class>/raw``, as torchvision."""
        return self.root / type(self).__name__ / "raw"

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _search_dirs(self) -> list[Path]:
        dirs = [self.root, self.raw_folder] + [self.root / f for f in self.folders]
        return dirs + [Path(d) for d in self.system_dirs]

    def _how_to_get(self) -> str:
        return (f"pass download=True to fetch it from {self.mirrors[0]}, or put the four "
                "IDX files in one of the directories above")

    def _find(self, stem: str) -> Path:
        dirs = self._search_dirs()
        for d in dirs:
            for name in (stem, stem + ".gz"):
                if (d / name).is_file():
                    return d / name
        where = "\n  ".join(str(d) for d in dirs)
        raise FileNotFoundError(f"{type(self).__name__}: {stem}[.gz] not found; looked in:\n  "
                                f"{where}\n{self._how_to_get()}")

    def _exists(self, stem: str) -> bool:
        try:
            self._find(stem)
            return True
        except FileNotFoundError:
            return False

    def download(self) -> None:
        """Fetch the files that are not found locally into ``raw_folder`` (MD5 checked)."""
        for filename, md5 in self.resources:
            if not self._exists(filename.removesuffix(".gz")):
                download_file(filename, self.mirrors, md5, self.raw_folder)

    def _image(self, pixels: np.ndarray) -> Any:
        return _make(pixels.astype(np.float32)[..., None, :, :] / np.float32(255))

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 images of 10 kinds of clothing, MNIST's format and sizes.

    Same arguments and items as :class:`MNIST`. Besides ``root`` the files are also looked for
    in ``FashionMNIST.system_dirs`` (e.g. ``/usr/share/dataset-fashion-mnist``).
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    folders = ["fashion-mnist", "fashion_mnist", "fashionmnist"]
    system_dirs = ["/usr/share/dataset-fashion-mnist", "/usr/share/fashion-mnist",
                   "/usr/share/datasets/fashion-mnist", "/usr/local/share/fashion-mnist"]
