"""Speaking ahead (voice/prewarm.py) against the project's real Wyoming TTS server: what is asked
for lands in the phrase cache, behind live speech, urgent first, within its budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import time

import pytest

from custom_components.blip.phrases import FIXED_REPLIES
from custom_components.blip.voice.phrase_cache import PhraseCache
from custom_components.blip.voice.prewarm import Prewarmer
from custom_components.blip.voice.wyoming_client import WyomingTtsClient
from tests import voice_fixtures
from tests.wyoming_fixtures import ServerAddress

blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server

VOICE = "en_US-joe-medium"
SENTENCES = ("Zebra is spelled Z, E, B, R, A.", "Comet is spelled C, O, M, E, T.", "Lizard.")


class _RecordingClient(WyomingTtsClient):
    """The real client, noting when each synthesis starts."""

    def __init__(self, address: ServerAddress) -> None:
        super().__init__(address.host, address.port)
        self.started: list[tuple[float, str]] = []

    async def synthesize(self, text, voice=None, speaker=None):  # type: ignore[no-untyped-def]
        self.started.append((time.monotonic(), text))
        async for item in super().synthesize(text, voice, speaker):
            yield item


@contextlib.asynccontextmanager
async def _prewarmer(address: ServerAddress, **kwargs: int) -> AsyncIterator[Prewarmer]:
    import asyncio

    client = _RecordingClient(address)
    prewarmer = Prewarmer(client, PhraseCache(), voices=lambda: [VOICE], **kwargs)
    worker = asyncio.create_task(prewarmer.run())
    try:
        yield prewarmer
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await client.close()


async def test_requested_sentences_are_cached(tts_server: ServerAddress) -> None:
    async with _prewarmer(tts_server) as prewarmer:
        job = prewarmer.request([" ".join(SENTENCES[:2])], urgent=True)
        await job.done.wait()
        assert (job.synthesized, job.failed) == (2, 0)
        assert all(prewarmer.cache.contains(VOICE, s) for s in SENTENCES[:2])
        assert prewarmer.is_cached(" ".join(SENTENCES[:2]))
        again = prewarmer.request([SENTENCES[0]], urgent=True)
        await again.done.wait()
        assert (again.synthesized, again.already_cached) == (0, 1)


async def test_nothing_is_synthesized_while_blip_speaks(tts_server: ServerAddress) -> None:
    import asyncio

    async with _prewarmer(tts_server) as prewarmer:
        with prewarmer.speaking():
            job = prewarmer.request([SENTENCES[0]], urgent=True)
            for _ in range(20):  # let the worker run as far as it will
                await asyncio.sleep(0)
            speech_ended = time.monotonic()
        await job.done.wait()
        client = prewarmer.client
        assert isinstance(client, _RecordingClient)
        assert client.started and client.started[0][0] >= speech_ended


async def test_a_new_question_replaces_the_last_ones_predictions(tts_server: ServerAddress) -> None:
    async with _prewarmer(tts_server) as prewarmer:
        stale = prewarmer.request(SENTENCES, urgent=True)
        fresh = prewarmer.request(["Mitten is spelled M, I, T, T, E, N."], urgent=True)
        assert stale.done.is_set() and stale.superseded
        await fresh.done.wait()
        assert fresh.synthesized == 1
        assert prewarmer.last_job is fresh
        assert not prewarmer.cache.contains(VOICE, SENTENCES[1])


async def test_urgent_requests_go_before_background_work(tts_server: ServerAddress) -> None:
    async with _prewarmer(tts_server) as prewarmer:
        background = prewarmer.request(SENTENCES, urgent=False)
        urgent = prewarmer.request(["Goblin is spelled G, O, B, L, I, N."], urgent=True)
        await urgent.done.wait()
        assert not background.done.is_set()
        await background.done.wait()
        assert background.synthesized == len(SENTENCES)
        client = prewarmer.client
        assert isinstance(client, _RecordingClient)
        assert client.started[0][1].startswith("Goblin")


async def test_the_budget_drops_its_own_oldest_sentences_never_fixed_phrases(
    tts_server: ServerAddress,
) -> None:
    async with _prewarmer(tts_server) as prewarmer:
        fixed = FIXED_REPLIES[1]
        await prewarmer.cache.async_warm(prewarmer.client, [fixed], VOICE)
        first = prewarmer.request([SENTENCES[0]], urgent=True)
        await first.done.wait()
        # Room for one and a half spelled sentences of this length (their audio differs by a
        # few per cent, so a fixed margin is not enough), not for two.
        prewarmer.budget_bytes = prewarmer.held_bytes * 3 // 2
        second = prewarmer.request([SENTENCES[1]], urgent=True)
        await second.done.wait()
        assert prewarmer.held_bytes <= prewarmer.budget_bytes
        assert not prewarmer.cache.contains(VOICE, SENTENCES[0])
        assert prewarmer.cache.contains(VOICE, SENTENCES[1])
        assert prewarmer.is_cached(fixed)


@pytest.mark.parametrize("texts", [[], [""], ["   "]])
async def test_an_empty_request_is_done_at_once(
    tts_server: ServerAddress, texts: list[str]
) -> None:
    async with _prewarmer(tts_server) as prewarmer:
        job = prewarmer.request(texts, urgent=True)
        assert job.done.is_set() and job.sentences == ()
