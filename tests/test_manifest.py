"""manifest.json and hacs.json follow hassfest's and HACS' rules."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, packages_distributions, requires, version
import json
from pathlib import Path
import sys

import homeassistant
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _pins(lines: Iterable[str]) -> dict[str, Requirement]:
    """name -> requirement, for the pinned requirement lines among ``lines``."""
    pins = {}
    for raw in lines:
        line = raw.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def _pinned_version(requirement: Requirement) -> str:
    return next(iter(requirement.specifier)).version


def test_manifest_requirements_fit_home_assistant() -> None:
    """Each requirement is a lower bound that the installed Home Assistant's own pins (its
    package_constraints.txt and its core integrations' manifests, e.g. core's anthropic and
    wyoming) satisfy, so a family using both never gets a package downgraded or refused.

    Run on both ends of the supported window (.ci/run): 2026.2 pins anthropic 0.75.0, 2026.10
    pins 0.125.0; both must fit.
    """
    ha_dir = Path(homeassistant.__file__).parent
    constraints = _pins((ha_dir / "package_constraints.txt").read_text().splitlines())
    core_pins: dict[str, list[tuple[str, Requirement]]] = {}
    for manifest_path in sorted((ha_dir / "components").glob("*/manifest.json")):
        core_manifest = json.loads(manifest_path.read_text())
        for name, pin in _pins(core_manifest.get("requirements", [])).items():
            core_pins.setdefault(name, []).append((core_manifest["domain"], pin))
    checked_against_core = set()
    for line in MANIFEST["requirements"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert requirement.specifier, f"{line}: give a lower bound, Home Assistant pins"
        assert all(spec.operator in (">=", ">", "!=", "<") for spec in requirement.specifier), (
            f"{line}: an exact pin fights core's own pin of the same package"
        )
        assert requirement.specifier.contains(version(requirement.name)), (
            f"{line}: installed {version(requirement.name)}"
        )
        if (pin := constraints.get(name)) is not None:
            assert requirement.specifier.contains(_pinned_version(pin)), f"{line} vs HA's {pin}"
        for domain, pin in core_pins.get(name, []):
            checked_against_core.add(name)
            assert requirement.specifier.contains(_pinned_version(pin)), (
                f"{line} vs core's {domain}: {pin}"
            )
    # Core's Anthropic and Wyoming integrations pin the SDKs Blip uses too.
    assert {"anthropic", "wyoming"} <= checked_against_core


def _third_party_imports() -> set[str]:
    """Top-level modules the integration imports that are neither stdlib nor its own."""
    modules = set()
    for path in (ROOT / "custom_components/blip").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != "custom_components"}


def _installed_with(distribution: str) -> set[str]:
    """The distribution and everything it requires, transitively (extras left out)."""
    found: set[str] = set()
    todo = [distribution]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        found.add(name)
        try:
            lines = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [Requirement(line).name for line in lines if "extra ==" not in line]
    return found


def test_manifest_declares_what_the_integration_imports() -> None:
    """Every third-party import is in the manifest or comes with Home Assistant itself;
    matplotlib (the benchmark's optional plot) is the one optional import."""
    declared = {canonicalize_name(Requirement(line).name) for line in MANIFEST["requirements"]}
    with_home_assistant = _installed_with("homeassistant")
    optional = {"matplotlib"}
    for module in sorted(_third_party_imports() - optional):
        distributions = packages_distributions().get(module, [module])
        assert {canonicalize_name(d) for d in distributions} & (declared | with_home_assistant), (
            f"{module} is imported but neither in the manifest nor a Home Assistant requirement"
        )


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
