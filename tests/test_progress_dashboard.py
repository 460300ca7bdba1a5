"""docs/dashboard.yaml names entities and actions that a real Blip for "Ada" provides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import yaml as yaml_util

from custom_components.blip.const import DOMAIN
from tests.progress_fixtures import blip_entry, set_up

DASHBOARD = Path(__file__).parent.parent / "docs" / "dashboard.yaml"


def walk(node: Any) -> list[dict[str, Any]]:
    """Every mapping in the dashboard, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


async def test_dashboard_entities_and_actions_exist(hass: HomeAssistant) -> None:
    """Every entity on the example dashboard exists, and its buttons call Blip's real actions."""
    dashboard = yaml_util.load_yaml(str(DASHBOARD))
    await set_up(hass, blip_entry())
    nodes = walk(dashboard)
    entities = {node["entity"] for node in nodes if isinstance(node.get("entity"), str)}
    assert len(entities) == 9
    for entity_id in entities:
        assert hass.states.get(entity_id) is not None, entity_id
    actions = [node for node in nodes if node.get("action") == "perform-action"]
    assert len(actions) == 2
    for action in actions:
        domain, service = action["perform_action"].split(".")
        assert hass.services.has_service(domain, service)
        assert domain == DOMAIN
        assert hass.states.get(action["data"]["child"]) is not None
    graphs = [node for node in nodes if node.get("type") == "statistics-graph"]
    for graph in graphs:
        for entry in graph["entities"]:
            state = hass.states.get(entry["entity"])
            assert state is not None
            assert state.attributes.get("state_class") is not None, entry["entity"]
