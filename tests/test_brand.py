"""Blip's own icon and logo: drawn by scripts/draw-brand, served by Home Assistant."""

from __future__ import annotations

from importlib.machinery import SourceFileLoader
import importlib.util
from pathlib import Path
import sys

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from PIL import Image
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

ROOT = Path(__file__).parent.parent
BRAND = ROOT / "custom_components" / "blip" / "brand"


def _draw_brand():  # the script has no .py suffix: load it by path
    loader = SourceFileLoader("draw_brand", str(ROOT / "scripts" / "draw-brand"))
    spec = importlib.util.spec_from_loader("draw_brand", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["draw_brand"] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


def test_every_brand_image_is_there_at_the_brands_sizes() -> None:
    """Icons square (256, @2x 512); logos landscape, shortest side 128 (@2x 256); all with a
    transparent background, as Home Assistant's brands guidelines ask."""
    sizes = {}
    for path in sorted(BRAND.glob("*.png")):
        with Image.open(path) as image:
            assert image.mode == "RGBA", path.name
            assert image.getpixel((0, 0))[3] == 0, f"{path.name}: background not transparent"
            sizes[path.name] = image.size
    assert sizes["icon.png"] == sizes["dark_icon.png"] == (256, 256)
    assert sizes["icon@2x.png"] == sizes["dark_icon@2x.png"] == (512, 512)
    for name, shortest in (("logo.png", 128), ("logo@2x.png", 256)):
        for variant in (name, f"dark_{name}"):
            width, height = sizes[variant]
            assert height == shortest and width > height, variant


def test_the_script_draws_the_committed_images(tmp_path: Path) -> None:
    """The images are the script's: drawing again gives the same sizes and (with the same
    Pillow) the same pixels, so a change to the mascot is a change to the script."""
    for path in _draw_brand().draw_all(tmp_path):
        with Image.open(path) as drawn, Image.open(BRAND / path.name) as committed:
            assert drawn.size == committed.size, path.name
            difference = [
                abs(a - b) for a, b in zip(drawn.tobytes(), committed.tobytes(), strict=True)
            ]
            # Pillow's resampling may differ by a level between releases, nothing more.
            assert max(difference) <= 8, path.name


async def test_home_assistant_serves_blips_icon(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Home Assistant finds the brand folder and (2026.3 and newer, with its brands
    integration) serves the icon and the dark logo to the frontend from it."""
    integration = await async_get_integration(hass, "blip")
    brands = importlib.util.find_spec("homeassistant.components.brands")
    if brands is None:  # 2026.2: no brands integration yet; the folder is simply carried
        assert not hasattr(integration, "has_branding")
        return
    assert integration.has_branding
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for image in ("icon.png", "dark_logo.png"):
        response = await client.get(f"/api/brands/integration/blip/{image}")
        assert response.status == 200, image
        assert await response.read() == (BRAND / image).read_bytes()
