"""Review finding: Blip read its bundled data files (spelling word lists, the benchmark's
unsuitable-words list) inside the event loop on first use, the blocking I/O Home Assistant
reports as "Detected blocking call ... inside the event loop by custom integration 'blip'".

Home Assistant's own detector is switched off for path reads in tests, so these tests watch the
same calls themselves: any read of a file in Blip's package made on the event loop's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import pathlib
import threading
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

import custom_components.blip
from custom_components.blip.bench import scoring
from custom_components.blip.bench.service import EVENT_BENCHMARK_FINISHED, SERVICE_RUN_BENCHMARK
from custom_components.blip.brain import drills
from custom_components.blip.const import DOMAIN
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import FakeLocalModel

PACKAGE_DIR = pathlib.Path(custom_components.blip.__file__).parent


@pytest.fixture
def loop_file_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of Blip's package files read on the event loop's thread, with every cache of
    bundled data emptied first (so the first use really reads)."""
    loop_thread = threading.get_ident()  # pytest-asyncio runs the test's loop on this thread
    reads: list[str] = []
    drills.word_lists.cache_clear()
    drills.known_words.cache_clear()
    scoring.unsuitable_words.cache_clear()

    def watched(original: Callable[..., Any]) -> Callable[..., Any]:
        def read(self: pathlib.Path, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == loop_thread and self.is_relative_to(PACKAGE_DIR):
                reads.append(self.name)
            return original(self, *args, **kwargs)

        return read

    for name in ("read_text", "read_bytes", "open"):
        monkeypatch.setattr(pathlib.Path, name, watched(getattr(pathlib.Path, name)))
    yield reads


async def test_a_first_spelling_quiz_reads_no_file_in_the_event_loop(
    hass: HomeAssistant, loop_file_reads: list[str]
) -> None:
    """The word lists are loaded off the loop when Blip sets up, not on a child's first quiz."""
    await setup_blip(hass, blip_entry())
    turn = await converse(hass, "quiz me on spelling")
    assert turn.speech.rstrip().endswith("?")  # the drill engine asked a word
    assert loop_file_reads == []


async def test_a_benchmark_run_reads_no_file_in_the_event_loop(
    hass: HomeAssistant, loop_file_reads: list[str], openai_server: FakeLocalModel
) -> None:
    """blip.run_benchmark scores answers without reading the unsuitable-words list on the loop."""
    await setup_blip(hass, blip_entry(local=openai_server))
    finished = async_capture_events(hass, EVENT_BENCHMARK_FINISHED)
    await hass.services.async_call(
        DOMAIN,
        SERVICE_RUN_BENCHMARK,
        {"activities": ["chitchat"], "cases_per_activity": 1},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(finished) == 1
    assert "error" not in finished[0].data
    assert openai_server.chat_requests  # a model answer was scored
    assert loop_file_reads == []
