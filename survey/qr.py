"""Pure QR rendering: URL in, image bytes out."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

#: Quartile (25 %) error correction: printed posters get scuffed, folded and photographed at an angle.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
#: The quiet zone the QR specification requires around the code, in modules.
BORDER = 4


def qr_svg(url: str) -> str:
    """An SVG ``<svg>`` element (no XML declaration) encoding ``url``."""
    image = qrcode.make(url, image_factory=SvgPathImage, error_correction=ERROR_CORRECTION, border=BORDER)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]


def qr_svg_document(url: str) -> bytes:
    """A standalone SVG file (with XML declaration) encoding ``url``."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + qr_svg(url).encode("utf-8")


def qr_png(url: str, box_size: int = 20) -> bytes:
    """A black-on-white PNG encoding ``url``; ``box_size`` pixels per module (20 prints sharp at 12 cm)."""
    image = qrcode.make(
        url, image_factory=PyPNGImage, error_correction=ERROR_CORRECTION, border=BORDER, box_size=box_size
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
