"""The ID card's own photo as a reference, used only when a vendor WLT decoder is configured
(`[cardreader] wlt_decoder_path`) and no enrolled template exists. Without a decoder, a person
with no template gets the "no_reference" decision instead.

The card photo is 102x126 pixels, small and old; an enrolled template from the service window
is preferred whenever there is one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from device.cardreader.wlt import PhotoResult
from device.match.templates import Reference
from device.redact import mask_id
from device.vision.align import align_face, five_points
from device.vision.types import AnalyzerPort, EmbedderPort, Image

log = logging.getLogger(__name__)


class Decoder(Protocol):
    def decode(self, wlt: bytes) -> PhotoResult: ...


class CardWithPhoto(Protocol):
    @property
    def id_number(self) -> str: ...

    @property
    def photo_wlt(self) -> bytes: ...


def decode_bmp(bmp: bytes) -> Image | None:
    """An RGB image from BMP bytes, or None."""
    if not bmp:
        return None
    decoded = cv2.imdecode(np.frombuffer(bmp, dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        return None
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def card_photo_reference(
    decoder: Decoder, analyzer: AnalyzerPort, embedder: EmbedderPort, subject: Callable[[str], str]
) -> Callable[[CardWithPhoto], Reference | None]:
    """A function from a card to its photo's embedding as a Reference (None if unusable)."""

    def reference(card: CardWithPhoto) -> Reference | None:
        result = decoder.decode(bytes(card.photo_wlt))
        rgb = decode_bmp(result.bmp) if result.ok else None
        if rgb is None:
            log.info(
                "card photo of %s not usable: %s",
                mask_id(card.id_number),
                result.reason or "not decodable",
            )
            return None
        faces = analyzer.analyze(rgb, max_faces=2)
        if len(faces) != 1:
            log.info("card photo of %s shows %d faces", mask_id(card.id_number), len(faces))
            return None
        vector = embedder.embed(align_face(rgb, five_points(faces[0])))
        return Reference(subject(card.id_number), embedder.model_id, vector, "card_photo", 1)

    return reference
