"""The front door of ``blip.run_benchmark``: registered at start, the benchmark loaded on use.

The backend benchmark (``bench/``, its test set, scoring and report code) is only needed when a
family runs the action, so Home Assistant's start does not import it: the action imports
``bench.service`` (in the import executor, off the event loop) on its first call. The options
flow's "use the last recommendation" reads only the small store kept here.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.storage import Store
import voluptuous as vol

from .const import DOMAIN

SERVICE_RUN_BENCHMARK: Final = "run_benchmark"
# The options-flow field that imports the last benchmark's recommended routing.
CONF_IMPORT_BENCHMARK: Final = "import_benchmark"
STORAGE_KEY: Final = "blip.benchmark"
STORAGE_VERSION: Final = 1
_STORE_KEY: Final = "blip_benchmark_store"
_BENCH_SERVICE_MODULE: Final = f"{__package__}.bench.service"


def benchmark_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    """The store of every entry's last finished benchmark (one per Home Assistant)."""
    if (store := hass.data.get(_STORE_KEY)) is None:
        store = hass.data[_STORE_KEY] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
    return store


async def async_last_recommendation(hass: HomeAssistant, entry_id: str) -> dict[str, str] | None:
    """The routing table the entry's last finished benchmark recommended, if any."""
    stored = await benchmark_store(hass).async_load() or {}
    last = (stored.get("entries") or {}).get(entry_id)
    if not isinstance(last, dict) or not isinstance(last.get("recommended"), dict):
        return None
    return {str(k): str(v) for k, v in last["recommended"].items()} or None


def async_setup_benchmark_action(hass: HomeAssistant) -> None:
    """Register ``blip.run_benchmark`` (once, when the integration is set up)."""

    async def run_benchmark(call: ServiceCall) -> ServiceResponse:
        bench = await hass.async_add_import_executor_job(
            importlib.import_module, _BENCH_SERVICE_MODULE
        )
        try:
            data = bench.RUN_BENCHMARK_SCHEMA(dict(call.data))
        except vol.Invalid as err:
            raise ServiceValidationError(f"Blip's benchmark options are not valid: {err}") from err
        response: ServiceResponse = await bench.async_run_benchmark(hass, data)
        return response

    hass.services.async_register(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        run_benchmark,
        supports_response=SupportsResponse.OPTIONAL,
    )
