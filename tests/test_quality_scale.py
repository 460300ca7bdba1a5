"""quality_scale.yaml is in core's format, names every rule, and every Bronze and Silver rule
is done; an exempt or unfinished rule says why."""

from __future__ import annotations

from pathlib import Path

import homeassistant
import yaml

ROOT = Path(__file__).parent.parent
RULES = yaml.safe_load((ROOT / "custom_components/blip/quality_scale.yaml").read_text())["rules"]

BRONZE = {
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow-test-coverage",
    "config-flow",
    "dependency-transparency",
    "docs-actions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
}
SILVER = {
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
}


def _status(rule: str) -> str:
    value = RULES[rule]
    return value if isinstance(value, str) else value["status"]


def test_every_rule_core_knows_is_there() -> None:
    """Each rule any core integration of the installed release lists, Blip lists too."""
    core = set()
    components = Path(homeassistant.__file__).parent / "components"
    for path in components.glob("*/quality_scale.yaml"):
        core |= set((yaml.safe_load(path.read_text()) or {}).get("rules") or {})
    assert core - set(RULES) == set()
    assert set(RULES) >= BRONZE | SILVER


# Silver rules not met yet, named so that meeting one (or losing another) updates this test.
SILVER_NOT_YET: set[str] = set()


def test_bronze_and_silver_are_done() -> None:
    assert {rule for rule in BRONZE if _status(rule) != "done"} == set()
    assert {rule for rule in SILVER if _status(rule) != "done"} == SILVER_NOT_YET


def test_exempt_and_todo_rules_say_why() -> None:
    for rule, value in RULES.items():
        status = _status(rule)
        assert status in {"done", "exempt", "todo"}, rule
        if status != "done":
            assert isinstance(value, dict) and value.get("comment", "").strip(), rule
