"""Downloading data files: mirrors tried in turn, MD5 verified, written atomically.

A file is fetched into a temporary file in the destination directory, checked against its
published MD5 and only then renamed into place, so an interrupted or corrupted download never
leaves a file that a later run would mistake for good data.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ...errors import EmberError

__all__ = ["DownloadError", "download_file", "md5sum"]

_CHUNK = 1 << 20


class DownloadError(EmberError, OSError, RuntimeError):
    """No mirror delivered a file with the expected checksum (the message lists each try).

    A RuntimeError as torchvision's download errors, and an OSError like other I/O failures,
    so either ``except`` catches it."""


def md5sum(path: str | os.PathLike) -> str:
    """The hex MD5 digest of a file's contents."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, target: Path, timeout: float) -> None:
    import urllib.request  # only when downloading: it pulls in http and ssl (~20 ms at import)

    request = urllib.request.Request(url, headers={"User-Agent": "ember"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(target, "wb") as f:
        for block in iter(lambda: response.read(_CHUNK), b""):
            f.write(block)


def download_file(filename: str, mirrors: Sequence[str], md5: str | None,
                  directory: str | os.PathLike, timeout: float = 30.0) -> Path:
    """Download ``mirror + filename`` from the first mirror that works into ``directory``.

    Args:
        mirrors: base URLs ending in ``/``, tried in order.
        md5: the expected hex digest; a file that does not match is discarded and the next
            mirror is tried. ``None`` skips the check.

    Returns the path of the downloaded file; raises :class:`DownloadError` if every mirror fails.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    destination = directory / filename
    failures = []
    for mirror in mirrors:
        url = mirror + filename
        fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=directory)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _fetch(url, tmp, timeout)
            got = md5sum(tmp)
            if md5 is not None and got != md5:
                failures.append(f"{url}: checksum mismatch (MD5 {got}, expected {md5})")
                continue
            os.replace(tmp, destination)
            return destination
        except (OSError, ValueError) as e:  # URLError is an OSError
            reason = getattr(e, "reason", None) or e
            failures.append(f"{url}: {type(e).__name__}: {reason}")
        finally:
            tmp.unlink(missing_ok=True)
    tried = "\n  ".join(failures) if failures else "(no mirrors given)"
    raise DownloadError(f"could not download {filename} into {directory}; tried:\n  {tried}")
