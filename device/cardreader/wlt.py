"""Optional WLT photo decoding through a vendor library loaded with ctypes.

The WLT format of the ID-card photo is undocumented; readers ship a shared library (often
`libwlt2bmp.so`) exporting `int unpack(const char *wlt, char *bmp, int flag)` that writes a
102x126 24-bit BMP and returns 1 on success. Without one, photos are reported as not decodable.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from device.cardreader.protocol import PHOTO_LEN

log = logging.getLogger(__name__)

BMP_WIDTH = 102
BMP_HEIGHT = 126
BMP_HEADER = 54
BMP_LEN = BMP_HEADER + BMP_HEIGHT * ((BMP_WIDTH * 3 + 3) // 4 * 4)
ENTRY_POINT = "unpack"


@dataclass(frozen=True, slots=True)
class PhotoResult:
    """`bmp` holds the decoded bitmap when `ok`; otherwise `reason` says why not."""

    ok: bool
    reason: str = ""
    bmp: bytes = field(default=b"", repr=False)


class WltDecoder:
    """A vendor decoder; load() opens the library (never the constructor)."""

    def __init__(self, library_path: str) -> None:
        self._path = library_path
        self._unpack: Callable[..., int] | None = None

    def load(self) -> PhotoResult:
        """Open the library; the result says whether decoding is available."""
        if not self._path:
            return PhotoResult(ok=False, reason="photo not decodable: no WLT decoder configured")
        if not Path(self._path).is_file():
            return PhotoResult(ok=False, reason="photo not decodable: WLT decoder not found")
        try:
            library = ctypes.CDLL(self._path)
            unpack = getattr(library, ENTRY_POINT)
        except (OSError, AttributeError) as exc:
            log.warning("wlt: cannot load decoder library: %s", exc)
            return PhotoResult(ok=False, reason="photo not decodable: decoder failed to load")
        unpack.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
        unpack.restype = ctypes.c_int
        self._unpack = unpack
        return PhotoResult(ok=True)

    def decode(self, wlt: bytes) -> PhotoResult:
        """The photo as a BMP, or a not-decodable result; never raises for bad input."""
        if self._unpack is None:
            loaded = self.load()
            if not loaded.ok:
                return loaded
        assert self._unpack is not None
        if len(wlt) != PHOTO_LEN:
            return PhotoResult(ok=False, reason=f"photo not decodable: {len(wlt)} bytes")
        out = ctypes.create_string_buffer(BMP_LEN)
        if self._unpack(wlt, out, 0) != 1:
            return PhotoResult(ok=False, reason="photo not decodable: decoder refused it")
        return PhotoResult(ok=True, bmp=out.raw)
