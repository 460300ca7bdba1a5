"""Entry setup, unload, reauth on a rejected key, diagnostics without secrets."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blip.const import (
    CONF_AGE,
    CONF_API_KEY,
    CONF_CHILD_NAME,
    CONF_CLAUDE_BASE_URL,
    CONF_LOCAL_API,
    CONF_LOCAL_URL,
    DOMAIN,
    SUBENTRY_CHILD,
)
from custom_components.blip.diagnostics import async_get_config_entry_diagnostics
from tests.llm_servers import VALID_KEY, FakeAnthropic


def _entry(
    anthropic: FakeAnthropic, key: str = VALID_KEY, local: str | None = None
) -> MockConfigEntry:
    data = {CONF_API_KEY: key, CONF_CLAUDE_BASE_URL: anthropic.base_url}
    if local:
        data |= {CONF_LOCAL_URL: local, CONF_LOCAL_API: "openai"}
    return MockConfigEntry(
        domain=DOMAIN,
        data=data,
        subentries_data=[
            ConfigSubentryData(
                data={CONF_CHILD_NAME: "Ada", CONF_AGE: 7},
                subentry_type=SUBENTRY_CHILD,
                title="Ada",
                unique_id=None,
            )
        ],
    )


async def test_setup_and_unload(hass: HomeAssistant, anthropic_server: FakeAnthropic) -> None:
    """A child's agent appears on setup and goes away on unload."""
    entry = _entry(anthropic_server, local="http://127.0.0.1:9")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.claude is not None
    assert entry.runtime_data.local_base_url == "http://127.0.0.1:9/v1"
    assert hass.states.get("conversation.blip_for_ada") is not None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_claude_down_does_not_stop_setup(hass: HomeAssistant, unused_tcp_port: int) -> None:
    """An unreachable Claude is logged; Blip still loads so the local routes answer."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_API_KEY: VALID_KEY, CONF_CLAUDE_BASE_URL: f"http://127.0.0.1:{unused_tcp_port}"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED


async def test_rejected_key_starts_reauth(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """A key Anthropic rejects stops setup and asks the family for a new one."""
    entry = _entry(anthropic_server, key="sk-ant-revoked")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_diagnostics_redact_secrets_and_names(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """No API key, proxy URL or child's name leaves in diagnostics."""
    entry = _entry(anthropic_server)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = repr(diagnostics)
    assert VALID_KEY not in text
    assert "Ada" not in text
    assert diagnostics["data"][CONF_API_KEY] == "**REDACTED**"
    assert diagnostics["backends"] == {"claude": True, "local": False}
    (child,) = diagnostics["children"].values()
    assert child[CONF_AGE] == 7
    (progress,) = diagnostics["progress"].values()
    assert progress["words"] == 0  # counts only: no words, no names


BENCH = "custom_components.blip.bench"


def test_importing_blip_does_not_import_the_benchmark() -> None:
    """The backend benchmark (bench/) is loaded by its action, not with the integration: a
    fresh interpreter imports every module Home Assistant loads at start and finds no bench."""
    modules = ["", ".config_flow", ".conversation", ".diagnostics", ".sensor", ".switch", ".tts"]
    code = "; ".join(
        [
            "import sys",
            *(f"import custom_components.blip{module}" for module in modules),
            f"print(sorted(m for m in sys.modules if m.startswith('{BENCH}.') or m == '{BENCH}'))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stdout


async def test_setting_up_blip_does_not_import_the_benchmark(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set-up, every platform and the options flow leave bench/ unloaded."""
    for name in [m for m in sys.modules if m == BENCH or m.startswith(BENCH + ".")]:
        monkeypatch.delitem(sys.modules, name)  # restored after the test
    entry = _entry(anthropic_server)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    hass.config_entries.options.async_abort(result["flow_id"])
    assert not [m for m in sys.modules if m == BENCH or m.startswith(BENCH + ".")]
    assert hass.services.has_service(DOMAIN, "run_benchmark")
