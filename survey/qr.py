"""Pure QR rendering: URL in, image bytes out."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage

#: Quartile (25 %) error correction: printed posters get scuffed, folded and photographed at an angle.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q


def qr_svg(url: str) -> str:
    """An SVG ``<svg>`` element (no XML declaration) encoding ``url``."""
    image = qrcode.make(url, image_factory=SvgPathImage, error_correction=ERROR_CORRECTION, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]
