"""Write models/golden/: the public-domain NASA astronaut portrait shipped with scikit-image, used
by `faceterm selftest` and the model-update check to confirm that the models still find, align
and recognise a face after an update."""

from __future__ import annotations

from pathlib import Path

import cv2
import skimage.data


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "models" / "golden"
    out.mkdir(parents=True, exist_ok=True)
    rgb = skimage.data.astronaut()
    crop = rgb[0:320, 64:384]  # the head and shoulders, 320x320
    cv2.imwrite(str(out / "astronaut.jpg"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {out / 'astronaut.jpg'}")


if __name__ == "__main__":
    main()
