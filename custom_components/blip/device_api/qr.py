"""A QR code for the pairing link, as a data URL a notification can show."""

from __future__ import annotations

import segno


def qr_data_uri(text: str) -> str:
    """An SVG QR code of ``text``, medium error correction, as a ``data:`` URL."""
    return segno.make(text, error="m").svg_data_uri(scale=6, border=2)
