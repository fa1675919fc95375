"""WLT photo decoding: without a vendor library the result says the photo is not decodable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from device.cardreader.wlt import BMP_LEN, WltDecoder


def test_no_decoder_configured() -> None:
    result = WltDecoder("").decode(bytes(1024))
    assert not result.ok and "not decodable" in result.reason and result.bmp == b""


def test_missing_library(tmp_path: Path) -> None:
    result = WltDecoder(str(tmp_path / "libwlt.so")).decode(bytes(1024))
    assert not result.ok and "not found" in result.reason


def test_file_that_is_not_a_library(tmp_path: Path) -> None:
    path = tmp_path / "libwlt.so"
    path.write_bytes(b"not an ELF file")
    result = WltDecoder(str(path)).decode(bytes(1024))
    assert not result.ok and "failed to load" in result.reason


def test_library_without_the_entry_point() -> None:
    libc = "/lib/x86_64-linux-gnu/libm.so.6"
    decoder = WltDecoder(libc if Path(libc).exists() else "/nonexistent")
    assert not decoder.decode(bytes(1024)).ok


FAKE_VENDOR_LIB = r"""
#include <string.h>
/* A stand-in with the vendor signature: fills a BMP-sized buffer, refuses all-zero input. */
int unpack(const char *wlt, char *bmp, int flag) {
    (void)flag;
    if (wlt[0] == 0) return -1;
    memset(bmp, 'B', 38556);
    bmp[0] = 'B'; bmp[1] = 'M';
    return 1;
}
"""


def _build_fake_library(tmp_path: Path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in vendor library")
    source = tmp_path / "fake.c"
    source.write_text(FAKE_VENDOR_LIB)
    library = tmp_path / "libfakewlt.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def test_vendor_library_through_ctypes(tmp_path: Path) -> None:
    decoder = WltDecoder(str(_build_fake_library(tmp_path)))
    assert decoder.load().ok
    result = decoder.decode(b"\x01" * 1024)
    assert result.ok and result.bmp[:2] == b"BM" and len(result.bmp) == BMP_LEN
    refused = decoder.decode(bytes(1024))
    assert not refused.ok and "refused" in refused.reason
    assert not decoder.decode(b"\x01" * 10).ok
