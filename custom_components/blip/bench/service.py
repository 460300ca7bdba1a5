"""The ``blip.run_benchmark`` action: benchmark the entry's own backends in the background.

The action returns at once (with what it is about to run); the benchmark runs as a background
task of the entry (cancelled if Blip unloads). When it ends, Blip writes the JSON report and the
plot under ``<config>/blip_benchmark/``, keeps the recommended routing table (the options flow
offers to import it), updates a persistent notification and fires ``blip_benchmark_finished``
with the table. Only one benchmark runs at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import (
    HomeAssistant,
    ServiceResponse,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..agent.backends import ClaudeClient, LocalModelClient
from ..benchmark_action import (
    CONF_IMPORT_BENCHMARK,
    SERVICE_RUN_BENCHMARK,
    async_last_recommendation,
    benchmark_store,
)
from ..brain import Activity
from ..const import (
    CONF_CLAUDE_MODEL,
    CONF_LOCAL_API,
    CONF_LOCAL_MODEL,
    CONNECT_TIMEOUT,
    DEFAULT_CLAUDE_MODEL,
    DEFAULT_LOCAL_MODEL,
    DOMAIN,
    LOCAL_API_OPENAI,
    LOCAL_READ_TIMEOUT,
    LOGGER,
)
from .benchmark import BenchOutcome, run, write_outputs
from .recommend import DEFAULT_BUDGET_METRIC, DEFAULT_BUDGET_MS
from .runner import BenchTarget, CaseResult, DrillTarget, ModelTarget
from .scoring import unsuitable_words
from .testset import BENCHMARKED_ACTIVITIES, DEFAULT_TESTSET_DIR, CaseFileError, load_testset

if TYPE_CHECKING:
    from .. import BlipConfigEntry

# Re-exported: the action's name and the options-flow field live with the action's front door.
__all__ = [
    "CONF_IMPORT_BENCHMARK",
    "EVENT_BENCHMARK_FINISHED",
    "SERVICE_RUN_BENCHMARK",
    "async_last_recommendation",
    "async_run_benchmark",
    "recommended_rows",
]

EVENT_BENCHMARK_FINISHED: Final = "blip_benchmark_finished"
ATTR_ACTIVITIES: Final = "activities"
ATTR_BUDGET_MS: Final = "budget_ms"
ATTR_CASES_PER_ACTIVITY: Final = "cases_per_activity"
REPORT_DIR: Final = "blip_benchmark"
NOTIFICATION_ID: Final = "blip_benchmark"
_DATA_KEY: Final = "blip_benchmark_running"
# The running notification is updated about this many times per run.
_PROGRESS_STEPS: Final = 10

RUN_BENCHMARK_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(ATTR_ACTIVITIES): vol.All(
            cv.ensure_list, [vol.In([activity.value for activity in BENCHMARKED_ACTIVITIES])]
        ),
        vol.Optional(ATTR_BUDGET_MS, default=DEFAULT_BUDGET_MS): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=600_000)
        ),
        vol.Optional(ATTR_CASES_PER_ACTIVITY): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
    }
)


def _running(hass: HomeAssistant) -> set[str]:
    """The entries being benchmarked now."""
    running: set[str] = hass.data.setdefault(_DATA_KEY, set())
    return running


async def _async_remember(hass: HomeAssistant, entry_id: str, outcome: BenchOutcome) -> None:
    store = benchmark_store(hass)
    stored = await store.async_load() or {}
    entries = dict(stored.get("entries") or {})
    entries[entry_id] = {
        "finished_at": dt_util.utcnow().isoformat(),
        "recommended": outcome.recommendation.routing,
        "budget_ms": outcome.recommendation.budget_ms,
        "report": str(outcome.report_path) if outcome.report_path else None,
    }
    await store.async_save({"entries": entries})


def _loaded_entry(hass: HomeAssistant) -> BlipConfigEntry:
    entries: list[Any] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    return entries[0]


def _targets(
    hass: HomeAssistant, entry: BlipConfigEntry
) -> tuple[list[BenchTarget], dict[str, dict[str, Any]]]:
    """The drill engine plus the entry's configured backends, built the way the agent builds
    them; and a description of each for the report (never a key)."""
    runtime = entry.runtime_data
    targets: list[BenchTarget] = [DrillTarget()]
    backends: dict[str, dict[str, Any]] = {"drill": {"kind": "drill"}}
    if runtime.local_base_url:
        api = entry.data.get(CONF_LOCAL_API, LOCAL_API_OPENAI)
        model = entry.data.get(CONF_LOCAL_MODEL) or DEFAULT_LOCAL_MODEL
        local = LocalModelClient(
            async_get_clientsession(hass),
            runtime.local_base_url,
            api,
            model,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=LOCAL_READ_TIMEOUT,
        )
        targets.append(ModelTarget(local))
        backends["local"] = {"url": runtime.local_base_url, "api": api, "model": model}
    if runtime.claude is not None:
        model = entry.data.get(CONF_CLAUDE_MODEL) or DEFAULT_CLAUDE_MODEL
        targets.append(
            ModelTarget(ClaudeClient(runtime.claude, model, connect_timeout=CONNECT_TIMEOUT))
        )
        backends["claude"] = {"model": model}
    return targets, backends


def _finished_message(outcome: BenchOutcome) -> str:
    """The notification: the recommended table with each row's score and latency."""
    lines = [
        f"Blip tried {outcome.report['cases']} questions on "
        f"{', '.join(outcome.report['backends'])} "
        f"({outcome.report['errors']} errors).",
        "",
        "| Activity | Recommended | Score | Latency (ms) |",
        "| --- | --- | --- | --- |",
    ]
    for activity, choice in outcome.recommendation.choices.items():
        over = " (over budget)" if not choice.within_budget else ""
        lines.append(
            f"| {activity.value} | {choice.backend}{over} | {choice.score:.2f} | "
            f"{choice.latency_ms:.0f} |"
        )
    lines += [
        "",
        f"Budget: {outcome.recommendation.budget_ms:.0f} ms ({outcome.recommendation.metric}). "
        "Safety always goes to Claude.",
        "To use this table, open Blip's options (Configure) and tick "
        '"Use the routing the last benchmark recommended".',
    ]
    if outcome.report_path:
        lines.append(f"Report: `{outcome.report_path}`")
    if outcome.plot_path:
        lines.append(f"Plot: `{outcome.plot_path}`")
    lines += outcome.notes
    return "\n".join(lines)


class _ProgressNotifier:
    """Keeps the running notification current, about every tenth of the run."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._shown = -1

    def __call__(self, done: int, total: int, result: CaseResult) -> None:
        step = done * _PROGRESS_STEPS // total if total else _PROGRESS_STEPS
        if step == self._shown:
            return
        self._shown = step
        persistent_notification.async_create(
            self._hass,
            f"Benchmark running: {done} of {total} answers ({100 * done // total}%).",
            title="Blip benchmark",
            notification_id=NOTIFICATION_ID,
        )


async def _async_run(
    hass: HomeAssistant,
    entry: ConfigEntry,
    cases: list[Any],
    targets: list[BenchTarget],
    backends: dict[str, dict[str, Any]],
    budget_ms: float,
) -> None:
    running = _running(hass)
    try:
        outcome = await run(
            cases,
            targets,
            backends=backends,
            budget_ms=budget_ms,
            metric=DEFAULT_BUDGET_METRIC,
            on_progress=_ProgressNotifier(hass),
        )
        await hass.async_add_executor_job(
            write_outputs, outcome, Path(hass.config.path(REPORT_DIR))
        )
        await _async_remember(hass, entry.entry_id, outcome)
    except Exception as err:
        LOGGER.exception("Blip's benchmark failed")
        persistent_notification.async_create(
            hass,
            f"Blip's benchmark failed: {err}. See the Home Assistant log.",
            title="Blip benchmark failed",
            notification_id=NOTIFICATION_ID,
        )
        hass.bus.async_fire(
            EVENT_BENCHMARK_FINISHED,
            {"entry_id": entry.entry_id, "recommended": {}, "error": str(err)},
        )
        return
    finally:
        running.discard(entry.entry_id)
    summary = outcome.summary()
    persistent_notification.async_create(
        hass,
        _finished_message(outcome),
        title="Blip benchmark finished",
        notification_id=NOTIFICATION_ID,
    )
    hass.bus.async_fire(
        EVENT_BENCHMARK_FINISHED,
        {
            "entry_id": entry.entry_id,
            "recommended": summary["recommended"],
            "budget_ms": summary["budget_ms"],
            "budget_metric": summary["budget_metric"],
            "over_budget": summary["over_budget"],
            "cases": summary["cases"],
            "errors": summary["errors"],
            "scores": summary["scores"],
            "report": summary["report"],
            "plot": summary["plot"],
        },
    )


async def async_run_benchmark(hass: HomeAssistant, data: dict[str, Any]) -> ServiceResponse:
    """Start ``blip.run_benchmark`` (``data`` validated by ``RUN_BENCHMARK_SCHEMA``)."""
    entry = _loaded_entry(hass)
    running = _running(hass)
    if entry.entry_id in running:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="benchmark_running")
    activities = [Activity(a) for a in data.get(ATTR_ACTIVITIES) or ()] or None
    try:
        cases = await hass.async_add_executor_job(
            load_testset,
            DEFAULT_TESTSET_DIR,
            activities,
            data.get(ATTR_CASES_PER_ACTIVITY),
        )
    except CaseFileError as err:
        raise HomeAssistantError(f"Blip's benchmark test set cannot be read: {err}") from err
    # Scoring reads its word list on first use: read it here, off the event loop.
    await hass.async_add_executor_job(unsuitable_words)
    targets, backends = _targets(hass, entry)
    running.add(entry.entry_id)
    budget_ms = data[ATTR_BUDGET_MS]
    # Announce first: the run starts eagerly and posts its own progress right away.
    persistent_notification.async_create(
        hass,
        f"Benchmark started: {len(cases)} questions on {', '.join(backends)}.",
        title="Blip benchmark",
        notification_id=NOTIFICATION_ID,
    )
    entry.async_create_background_task(
        hass,
        _async_run(hass, entry, cases, targets, backends, budget_ms),
        name="blip benchmark",
    )
    return {"started": True, "cases": len(cases), "backends": list(backends)}


def recommended_rows(recommended: Mapping[str, str]) -> dict[str, str]:
    """The options-flow fields (``route_<activity>``) a recommended table sets."""
    return {f"route_{activity}": backend for activity, backend in recommended.items()}
