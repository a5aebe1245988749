"""Download MNIST / Fashion-MNIST once into a cache folder, verified by SHA-256, written atomically.

The cache is ``$CHAINRULE_HOME`` when set, else ``~/.cache/chainrule``; each dataset lives in a subfolder
(``mnist/``, ``fashion-mnist/``) holding the four original ``.gz`` files. Every mirror is tried in turn;
a file is kept only when its SHA-256 sum matches the published one.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ArgumentError, DownloadError

MAX_BYTES = 64 * 2**20  # the largest file (Fashion-MNIST train images) is 26 MB
TIMEOUT_S = 60.0

DATASETS: dict[str, dict] = {
    "mnist": {
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        "files": {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "mirrors": [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ],
        "files": {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}


def cache_dir() -> Path:
    """The folder where datasets are downloaded: ``$CHAINRULE_HOME`` or ``~/.cache/chainrule``."""
    home = os.environ.get("CHAINRULE_HOME")
    return Path(home).expanduser() if home else Path.home() / ".cache" / "chainrule"


def fetch_url(url: str) -> bytes:
    """The body at ``url`` (http, https or file), at most :data:`MAX_BYTES` long."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - fixed mirror list
        body = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise OSError(f"more than {MAX_BYTES} bytes")
    return body


def download_file(filename: str, folder: str | os.PathLike, mirrors: Sequence[str], sha256: str,
                  fetch: Callable[[str], bytes] | None = None) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with the right SHA-256; write it atomically.

    Parameters
    ----------
    filename : str
        Name of the file, appended to each mirror's base URL.
    folder : path
        Where the file is written (created when missing).
    mirrors : sequence of str
        Base URLs ending in ``/`` (``https://``, ``http://`` or ``file://``).
    sha256 : str
        Expected hex digest; a mismatch moves on to the next mirror.
    fetch : callable, optional
        ``fetch(url) -> bytes``; defaults to :func:`fetch_url`.

    Returns
    -------
    Path of the written file. Raises :class:`~chainrule.errors.DownloadError` when no mirror works.
    """
    from .._atomic import atomic_write

    if not mirrors:
        raise ArgumentError(f"download_file: no mirror URL given for {filename}")
    fetch = fetch or fetch_url
    dest = Path(folder) / filename
    failures = []
    for base in mirrors:
        url = base + filename
        try:
            body = fetch(url)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts are
            # OSErrors; a garbled status line or a broken chunked transfer (a captive portal, a proxy) is not
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
            continue
        digest = hashlib.sha256(body).hexdigest()
        if digest != sha256:
            failures.append(f"{url}: checksum mismatch (SHA-256 {digest}, expected {sha256})")
            continue
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(dest, "wb") as f:
                f.write(body)
        except OSError as exc:
            raise DownloadError(f"downloaded {url} but could not write {dest}: {exc}") from None
        return dest
    raise DownloadError(f"could not download {filename} into {Path(folder)}:\n  " + "\n  ".join(failures))


def ensure_downloaded(dataset: str, folder: str | os.PathLike | None = None,
                      fetch: Callable[[str], bytes] | None = None) -> Path:
    """Make sure every file of ``dataset`` ('mnist' or 'fashion-mnist') is in ``folder``; return the folder.

    ``folder`` defaults to ``cache_dir() / dataset``. Files already there are kept as they are.
    """
    if dataset not in DATASETS:
        raise ArgumentError(f"unknown dataset {dataset!r}, expected one of {sorted(DATASETS)}")
    spec = DATASETS[dataset]
    folder = Path(folder) if folder is not None else cache_dir() / dataset
    for filename, sha256 in spec["files"].items():
        if (folder / filename).is_file() or (folder / filename.removesuffix(".gz")).is_file():
            continue  # already there (an uncompressed copy counts too)
        try:
            download_file(filename, folder, spec["mirrors"], sha256, fetch)
        except DownloadError as exc:
            raise DownloadError(f"{exc}\n{manual_instructions(dataset, folder)}") from None
    return folder


def manual_instructions(dataset: str, folder: Path) -> str:
    """How to get the files by hand, for error messages."""
    spec = DATASETS[dataset]
    names = ", ".join(spec["files"])
    return (f"To use {dataset} offline, download its four files ({names}) from {spec['mirrors'][0]} on a "
            f"machine with network access, put them in a folder, and pass root=FOLDER to the loader "
            f"(--data-dir FOLDER on the command line); or copy them into {folder}.")
