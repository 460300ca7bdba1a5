"""blip.run_benchmark through a real Home Assistant, and importing its table in the options flow.

Blip's entry points at two loopback backends with known behaviour: the local model is fast and
right, Claude is slow and sometimes wrong (tests/test_bench_run.py). The action must run in the
background, then report through a persistent notification and the blip_benchmark_finished
event with exactly the table those servers imply; the options flow then offers that table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.blip.bench.service import (
    CONF_IMPORT_BENCHMARK,
    EVENT_BENCHMARK_FINISHED,
    NOTIFICATION_ID,
    REPORT_DIR,
    SERVICE_RUN_BENCHMARK,
    async_last_recommendation,
)
from custom_components.blip.bench.testset import load_testset
from custom_components.blip.const import (
    CONF_DAILY_MINUTES,
    CONF_FILLER,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_ROUTING,
    DOMAIN,
)
from tests.agent_helpers import blip_entry, setup_blip
from tests.bench_servers import (
    Behaviour,
    TableAnthropic,
    TableLocalModel,
    reference_answers,
    serve_anthropic,
    serve_local,
)
from tests.test_bench_run import SLOW_DELAY, slow_and_sometimes_wrong

CASES = 2  # per activity: a quick run through Home Assistant
BUDGET_MS = 100
EXPECTED_TABLE = {
    "spelling": "drill",
    "math": "drill",
    "chitchat": "local",
    "creative": "local",
    "trivia": "local",
    "emotional": "local",
}
ROUTES = {
    "route_spelling": "local",
    "route_math": "local",
    "route_chitchat": "local",
    "route_creative": "claude",
    "route_trivia": "claude",
    "route_emotional": "claude",
}
OTHER_OPTIONS = {
    CONF_FILLER: True,
    CONF_QUIET_START: "20:00:00",
    CONF_QUIET_END: "07:00:00",
    CONF_DAILY_MINUTES: 0,
}


@pytest.fixture
async def backends() -> AsyncIterator[tuple[TableAnthropic, TableLocalModel]]:
    """Claude slow and sometimes wrong, the local model fast and right."""
    cases = load_testset(limit_per_activity=CASES)
    async with (
        serve_anthropic(slow_and_sometimes_wrong(cases)) as claude,
        serve_local(Behaviour(answers=reference_answers(cases))) as local,
    ):
        yield claude, local


@pytest.fixture
async def blip(
    hass: HomeAssistant, backends: tuple[TableAnthropic, TableLocalModel], tmp_path: Path
) -> MockConfigEntry:
    """Blip loaded on both backends; its config dir (reports) in the test's temp dir."""
    hass.config.config_dir = str(tmp_path)
    claude, local = backends
    entry = blip_entry(claude, local)
    await setup_blip(hass, entry)
    return entry


def _record_notifications(hass: HomeAssistant) -> list[str]:
    messages: list[str] = []

    @callback  # run at once, so each message is seen before the next replaces it
    def updated(_kind: Any, notifications: dict[str, Any]) -> None:
        if NOTIFICATION_ID in notifications:
            messages.append(notifications[NOTIFICATION_ID]["message"])

    persistent_notification.async_register_callback(hass, updated)
    return messages


async def test_run_benchmark_reports_by_event_and_notification(
    hass: HomeAssistant,
    blip: MockConfigEntry,
    backends: tuple[TableAnthropic, TableLocalModel],
    tmp_path: Path,
) -> None:
    events = async_capture_events(hass, EVENT_BENCHMARK_FINISHED)
    notifications = _record_notifications(hass)
    claude, local = backends
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        {"cases_per_activity": CASES, "budget_ms": BUDGET_MS},
        blocking=True,
        return_response=True,
    )
    # The action returns before the run: nothing has been asked yet.
    assert response == {
        "started": True,
        "cases": 6 * CASES,
        "backends": ["drill", "local", "claude"],
    }
    assert events == []
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, SERVICE_RUN_BENCHMARK, {}, blocking=True)
    assert raised.value.translation_key == "benchmark_running"

    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(events) == 1
    data = events[0].data
    assert data["entry_id"] == blip.entry_id
    assert data["recommended"] == EXPECTED_TABLE
    assert "safety" not in data["recommended"]
    assert data["budget_ms"] == BUDGET_MS
    assert data["over_budget"] == []
    assert data["cases"] == 6 * CASES
    assert data["errors"] == 0  # the HTTP 500 is on the third math case; this run asks two
    claude_scores = data["scores"]["claude"]
    assert claude_scores["spelling"]["passed"] == 1  # "D, O, O, G"
    assert claude_scores["math"]["passed"] == 1  # "two plus three is six"
    assert claude_scores["chitchat"]["score"] == 0.875  # markdown in one of two answers
    assert claude_scores["creative"]["score"] == 1.0
    assert claude_scores["trivia"]["first_token_p95_ms"] >= SLOW_DELAY * 1000
    assert all(s["score"] == 1.0 for s in data["scores"]["local"].values())
    # Each backend really was asked: 12 questions each, on the entry's own clients.
    assert len(local.chat_requests) == len(claude.chat_requests) == 6 * CASES

    report = json.loads((tmp_path / REPORT_DIR / "report.json").read_text())
    assert report["recommendation"]["routing"] == EXPECTED_TABLE
    assert data["report"] == str(tmp_path / REPORT_DIR / "report.json")
    assert Path(data["plot"]).read_bytes()[:4] == b"\x89PNG"

    assert notifications[0].startswith("Benchmark started: 12 questions on drill, local, claude")
    assert any(message.startswith("Benchmark running:") for message in notifications)
    final = notifications[-1]
    assert "| chitchat | local | 1.00 |" in final
    assert "| spelling | drill | 1.00 |" in final
    assert "Safety always goes to Claude" in final

    assert await async_last_recommendation(hass, blip.entry_id) == EXPECTED_TABLE
    # A second run may start once the first has finished.
    await hass.services.async_call(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        {"activities": ["trivia"], "cases_per_activity": 1, "budget_ms": 10_000},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert events[-1].data["recommended"] == {"trivia": "local"}


async def test_options_flow_imports_the_recommended_table(
    hass: HomeAssistant, blip: MockConfigEntry
) -> None:
    # Before any benchmark, there is nothing to import.
    result = await hass.config_entries.options.async_init(blip.entry_id)
    assert CONF_IMPORT_BENCHMARK not in result["data_schema"].schema
    hass.config_entries.options.async_abort(result["flow_id"])

    await hass.services.async_call(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        {"activities": ["spelling", "trivia"], "cases_per_activity": CASES, "budget_ms": BUDGET_MS},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    result = await hass.config_entries.options.async_init(blip.entry_id)
    assert CONF_IMPORT_BENCHMARK in result["data_schema"].schema
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**ROUTES, CONF_IMPORT_BENCHMARK: True, **OTHER_OPTIONS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # The benchmarked rows come from the benchmark; the others keep what the form said.
    assert blip.options[CONF_ROUTING] == {
        "spelling": "drill",
        "math": "local",
        "chitchat": "local",
        "creative": "claude",
        "trivia": "local",
        "emotional": "claude",
    }
    assert CONF_IMPORT_BENCHMARK not in blip.options

    # Unticked, the form's own rows are saved.
    result = await hass.config_entries.options.async_init(blip.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**ROUTES, CONF_IMPORT_BENCHMARK: False, **OTHER_OPTIONS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert blip.options[CONF_ROUTING]["spelling"] == "local"


async def test_run_benchmark_without_blip_loaded(hass: HomeAssistant) -> None:
    entry = blip_entry(local=None, anthropic=None, local_url="http://127.0.0.1:9")
    await setup_blip(hass, entry, deadlines=None)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, SERVICE_RUN_BENCHMARK, {}, blocking=True)
    assert raised.value.translation_key == "not_loaded"


@pytest.mark.parametrize(
    "data",
    [
        {"activities": ["safety"]},  # never benchmarked: safety always goes to Claude
        {"budget_ms": 0},
        {"cases_per_activity": "many"},
    ],
    ids=["safety", "no-budget", "not-a-count"],
)
async def test_run_benchmark_options_that_are_not_valid(
    hass: HomeAssistant, data: dict[str, Any]
) -> None:
    """Bad options are the caller's mistake (a validation error), and nothing starts."""
    entry = blip_entry(local=None, anthropic=None, local_url="http://127.0.0.1:9")
    await setup_blip(hass, entry, deadlines=None)
    notifications = _record_notifications(hass)
    with pytest.raises(ServiceValidationError, match="Blip's benchmark options are not valid"):
        await hass.services.async_call(DOMAIN, SERVICE_RUN_BENCHMARK, data, blocking=True)
    await hass.async_block_till_done()
    assert notifications == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_benchmark_that_cannot_write_its_report_says_so(
    hass: HomeAssistant, blip: MockConfigEntry, tmp_path: Path
) -> None:
    """A file stands where the report folder goes: the run fails with a notification and an
    event saying why, nothing is remembered to import, and a new run may start."""
    (tmp_path / REPORT_DIR).write_text("not a folder")
    events = async_capture_events(hass, EVENT_BENCHMARK_FINISHED)
    notifications = _record_notifications(hass)
    await hass.services.async_call(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        {"activities": ["spelling"], "cases_per_activity": 1, "budget_ms": 10_000},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    (event,) = events
    assert event.data["recommended"] == {}
    assert event.data["error"]
    assert notifications[-1].startswith("Blip's benchmark failed:")
    assert await async_last_recommendation(hass, blip.entry_id) is None
    await hass.services.async_call(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        {"activities": ["spelling"], "cases_per_activity": 1},
        blocking=True,
    )  # not refused as still running
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events) == 2
