"""manifest.json and hacs.json follow hassfest's and HACS' rules."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.util.package import is_installed

ROOT = Path(__file__).parent.parent
MANIFEST = json.loads((ROOT / "custom_components/blip/manifest.json").read_text())
HACS = json.loads((ROOT / "hacs.json").read_text())

HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "render_readme",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}


def test_manifest_key_order() -> None:
    """domain, name, then the rest alphabetically (hassfest's sort rule)."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_required_fields() -> None:
    """A custom integration needs a version and the fields hassfest checks."""
    for key in (
        "version",
        "codeowners",
        "documentation",
        "issue_tracker",
        "iot_class",
        "integration_type",
        "requirements",
    ):
        assert key in MANIFEST, key
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["dependencies"][0] == "conversation"
    assert "assist_pipeline" in MANIFEST["after_dependencies"]
    assert MANIFEST["iot_class"] in {
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
        "assumed_state",
        "calculated",
    }


def test_manifest_requirements_fit_home_assistant() -> None:
    """Every requirement is satisfied by the Home Assistant 2026.2 environment it runs in."""
    constraints = (
        Path(__import__("homeassistant").__file__).parent / "package_constraints.txt"
    ).read_text()
    for requirement in MANIFEST["requirements"]:
        assert is_installed(requirement), requirement
        name = requirement.split("=")[0].split(">")[0].strip().lower()
        for line in constraints.splitlines():
            if line.lower().startswith(name + "=="):
                assert is_installed(line), f"{requirement} conflicts with HA's pin {line}"
    anthropic_core = json.loads(
        (
            Path(__import__("homeassistant").__file__).parent / "components/anthropic/manifest.json"
        ).read_text()
    )
    assert "anthropic==0.75.0" in anthropic_core["requirements"]  # same SDK as core's integration


def test_hacs_json() -> None:
    """Only keys HACS accepts, and the minimum Home Assistant version."""
    assert set(HACS) <= HACS_KEYS
    assert HACS["name"] == "Blip"
    assert HACS["homeassistant"] == "2026.2.0"


def test_translations_are_literal() -> None:
    """Custom components can't use core's [%key:…] references; en.json mirrors strings.json."""
    strings = (ROOT / "custom_components/blip/strings.json").read_text()
    assert "[%key:" not in strings
    assert json.loads(strings) == json.loads(
        (ROOT / "custom_components/blip/translations/en.json").read_text()
    )


async def test_home_assistant_loads_the_manifest(hass: HomeAssistant) -> None:
    """Home Assistant's loader accepts it as a custom integration with a valid version."""
    integration = await async_get_integration(hass, "blip")
    assert integration.is_built_in is False
    assert str(integration.version) == MANIFEST["version"]
    assert integration.config_flow is True
    assert integration.dependencies == MANIFEST["dependencies"]
