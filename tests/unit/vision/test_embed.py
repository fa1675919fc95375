"""SFace embeddings on the real models/*.tflite: normalisation, variants agree, genuine > impostor.

Faces: scikit-image's astronaut (public domain) aligned with the project's own analyzer, mirrored
and rotated copies of it as genuine pairs, and upscaled faces of scikit-image's lfw_subset as
impostors. LFW-dev pairs are used when ../shared/data/lfw-dev is present.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from device.errors import ModelError
from device.eval.crops import CropMaker
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder, cosine, l2_normalise
from device.vision.models import Manifest
from device.vision.settings import VisionSettings

Image = npt.NDArray[np.uint8]
VARIANTS = ("sface_fp16", "sface_int8")


@pytest.fixture(scope="module")
def manifest(models_dir: Path) -> Manifest:
    return Manifest.load(models_dir)


@pytest.fixture(scope="module")
def embedders(manifest: Manifest) -> dict[str, Embedder]:
    return {v: Embedder.from_manifest(manifest, v, num_threads=2) for v in VARIANTS}


@pytest.fixture(scope="module")
def crops(analyzer: FaceAnalyzer) -> CropMaker:
    return CropMaker(analyzer)


def transformed(image: Image, degrees: float, mirror: bool) -> Image:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 0.9)
    out = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(out[:, ::-1] if mirror else out)


def other_faces(count: int) -> list[Image]:
    """Faces of other people: lfw_subset's 25x25 grey crops, upscaled to 112x112 RGB."""
    data = pytest.importorskip("skimage.data")
    faces = data.lfw_subset()[:count]
    rows = []
    for face in faces:
        grey = cv2.resize((face * 255).astype(np.uint8), (112, 112), interpolation=cv2.INTER_CUBIC)
        rows.append(np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2)))
    return rows


def test_embedding_is_l2_normalised(crops: CropMaker, embedders: dict[str, Embedder],
                                    astronaut: Image) -> None:  # fmt: skip
    crop = crops.crop(astronaut)
    assert crop.found
    for embedder in embedders.values():
        vector = embedder.embed(crop.crop)
        assert vector.shape == (128,) and vector.dtype == np.float32
        assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-5)


def test_float16_and_int8_agree(crops: CropMaker, embedders: dict[str, Embedder],
                                astronaut: Image) -> None:  # fmt: skip
    for image in (astronaut, transformed(astronaut, 10.0, True)):
        crop = crops.crop(image).crop
        fp16, int8 = (embedders[v].embed(crop) for v in VARIANTS)
        assert cosine(fp16, int8) >= 0.9


@pytest.mark.parametrize("variant", VARIANTS)
def test_genuine_scores_above_impostors(crops: CropMaker, embedders: dict[str, Embedder],
                                        astronaut: Image, variant: str) -> None:  # fmt: skip
    embedder = embedders[variant]
    reference = embedder.embed(crops.crop(astronaut).crop)
    genuine_images = [transformed(astronaut, d, m) for d, m in ((8.0, False), (-12.0, True))]
    genuine = [cosine(reference, embedder.embed(crops.crop(img).crop)) for img in genuine_images]
    impostor = [cosine(reference, v) for v in embedder.embed_batch(other_faces(8))]
    assert min(genuine) > max(impostor)
    assert embedder.threshold is not None
    assert min(genuine) >= embedder.threshold > max(impostor)


def test_embed_batch_matches_embed(crops: CropMaker, embedders: dict[str, Embedder],
                                   astronaut: Image) -> None:  # fmt: skip
    embedder = embedders["sface_fp16"]
    crop = crops.crop(astronaut).crop
    batch = embedder.embed_batch(np.stack([crop, crop[:, ::-1]]))
    assert batch.shape == (2, 128)
    np.testing.assert_allclose(batch[0], embedder.embed(crop), atol=1e-6)
    assert embedder.embed_batch([]).shape == (0, 128)


def test_bad_crop_is_refused(embedders: dict[str, Embedder]) -> None:
    embedder = embedders["sface_fp16"]
    with pytest.raises(ValueError, match="112x112x3 uint8"):
        embedder.embed(np.zeros((112, 112, 3), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="112x112x3 uint8"):
        embedder.embed(np.zeros((100, 100, 3), dtype=np.uint8))


def test_settings_choose_the_variant(models_dir: Path) -> None:
    settings = VisionSettings(models_dir=str(models_dir), embed_variant="sface_int8")
    embedder = Embedder.from_settings(settings)
    assert embedder.model_id.startswith("sface_int8@")
    bad = VisionSettings(models_dir=str(models_dir), embed_variant="nope")
    with pytest.raises(ModelError, match="variant=nope"):
        Embedder.from_settings(bad)


def test_cosine_and_normalise() -> None:
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == pytest.approx(0.0)
    assert cosine(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert cosine(np.zeros(3), np.ones(3)) == 0.0
    assert float(np.linalg.norm(l2_normalise(np.array([3.0, 4.0])))) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="different sizes"):
        cosine(np.ones(2), np.ones(3))
