"""Build ``src/chainrule/data/digits.npz`` from the UCI optdigits text files.

Usage::

    python scripts/build_digits.py [SOURCE_DIR]    # default: /work/shared/datasets/optdigits

The source folder holds ``optdigits.tra`` (3,823 training digits) and ``optdigits.tes`` (1,797 test digits),
each line 64 comma-separated block counts (0..16, row by row of an 8x8 grid) and the class (0..9). Both files
are checked against their SHA-256 sums (read from ``SHA256SUMS`` one folder up when present, else the sums
written below), parsed strictly, and stored as uint8 arrays in a compressed ``.npz`` (no pickle):
``x_train (3823, 8, 8)``, ``y_train (3823,)``, ``x_test (1797, 8, 8)``, ``y_test (1797,)``.
The archive is written with fixed timestamps, so rebuilding gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

DEFAULT_SOURCE = Path("/work/shared/datasets/optdigits")
OUT = Path(__file__).resolve().parent.parent / "src" / "chainrule" / "data" / "digits.npz"
SHA256 = {  # as published in the datasets README
    "optdigits.tra": "e1b683cc211604fe8fd8c4417e6a69f31380e0c61d4af22e93cc21e9257ffedd",
    "optdigits.tes": "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8",
}
COUNTS = {"optdigits.tra": 3823, "optdigits.tes": 1797}


def read_sums(source: Path) -> dict[str, str]:
    """SHA-256 sums from ``SHA256SUMS`` next to the source folder; must agree with the ones above."""
    sums = dict(SHA256)
    listing = source.parent / "SHA256SUMS"
    if listing.is_file():
        for line in listing.read_text().splitlines():
            digest, _, name = line.strip().partition("  ")
            base = Path(name).name
            if base in sums and sums[base] != digest:
                sys.exit(f"{listing}: sum of {base} is {digest}, expected {sums[base]}")
    return sums


def parse(path: Path, sha256: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        sys.exit(f"{path}: SHA-256 {digest} does not match the expected {sha256}")
    rows = [line.split(",") for line in raw.decode("ascii").splitlines() if line.strip()]
    if len(rows) != count or any(len(r) != 65 for r in rows):
        sys.exit(f"{path}: expected {count} lines of 65 fields")
    table = np.array(rows, dtype=np.int64)
    x, y = table[:, :64], table[:, 64]
    if x.min() < 0 or x.max() > 16 or y.min() < 0 or y.max() > 9:
        sys.exit(f"{path}: block counts must lie in 0..16 and classes in 0..9")
    return x.reshape(-1, 8, 8).astype(np.uint8), y.astype(np.uint8)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed .npz with fixed member timestamps (np.savez_compressed stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1998, 7, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    tmp = path.with_suffix(".npz.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    sums = read_sums(source)
    x_train, y_train = parse(source / "optdigits.tra", sums["optdigits.tra"], COUNTS["optdigits.tra"])
    x_test, y_test = parse(source / "optdigits.tes", sums["optdigits.tes"], COUNTS["optdigits.tes"])
    write_npz(OUT, {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
    with np.load(OUT, allow_pickle=False) as check:
        assert all(np.array_equal(check[k], v) for k, v in [("x_train", x_train), ("y_test", y_test)])
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes): train {x_train.shape}, test {x_test.shape}")


if __name__ == "__main__":
    main(sys.argv)
