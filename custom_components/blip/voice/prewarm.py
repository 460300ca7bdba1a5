"""Speak ahead: synthesize sentences Blip is about to need into the phrase cache, in the background.

The phrase cache (phrase_cache.py) holds Blip's fixed sentences from start-up. Some sentences are
not fixed but predictable: the answers a drill question can get ("C, A, T spells cat."), the
grade's spelling answers ("Because is spelled B, E, C, A, U, S, E."). Synthesized before the child
asks, they leave Home Assistant the moment the reply is known, instead of after piper has made
the first clause (about 130 ms on a quiet CPU, a second on a loaded one).

The work must never delay live speech, so the prewarmer
- synthesizes one sentence at a time, and only while no Blip voice stream is speaking (it waits,
  bounded, for the streams to end, so a child's answer gets the server first); background work
  also waits for a quiet moment (no speech for a couple of seconds), not just a gap between
  two sentences of a conversation;
- serves "urgent" requests (what the next few seconds may need: a question's possible answers)
  before "background" ones (word lists), and a newer urgent request replaces the older one,
  whose predictions are stale once the next question is asked;
- keeps what it added within a byte budget, dropping its least recently wanted sentences first;
  the fixed phrases it did not add are never dropped.

No Home Assistant import: Blip voice (tts.py) owns one per entry.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
import contextlib
from dataclasses import dataclass, field
import logging
from typing import Final

from .audio import PcmFormat
from .phrase_cache import PhraseCache
from .speakable import phrase_sentences, sentence_key
from .wyoming_client import WyomingTtsClient

_LOGGER = logging.getLogger(__name__)

# What prewarmed sentences may hold, their converted copies included. A grade's spelling
# answers take about 7.5 MB in piper's 22,050 Hz voice (53 words; more for each other satellite
# format in use), a drill question's expected answers well under 1 MB.
DEFAULT_BUDGET_BYTES: Final = 24 * 1024 * 1024
# Longest wait for live speech to end before a sentence is synthesized anyway: a stream left
# open by a satellite that stopped reading must not stop speaking ahead for good.
MAX_WAIT_FOR_QUIET_S: Final = 5.0
# Background work starts once Blip voice has been quiet this long (bounded by the wait above,
# times BACKGROUND_PATIENCE).
BACKGROUND_QUIET_S: Final = 2.0
BACKGROUND_PATIENCE: Final = 6
# Dispatcher signal (formatted with the entry id) sent when an entry's prewarmer takes requests.
SIGNAL_PREWARM_READY: Final = "blip_voice_prewarm_ready_{}"


@dataclass(slots=True)
class PrewarmJob:
    """One request: its sentences, and ``done`` once each is cached, failed or superseded."""

    sentences: tuple[str, ...]
    urgent: bool
    done: asyncio.Event = field(default_factory=asyncio.Event)
    next_index: int = 0
    synthesized: int = 0
    already_cached: int = 0
    failed: int = 0
    superseded: bool = False


class Prewarmer:
    """Background synthesis into a phrase cache, behind live speech and within a budget."""

    def __init__(
        self,
        client: WyomingTtsClient,
        cache: PhraseCache,
        *,
        voices: Callable[[], Iterable[str | None]],
        formats: Callable[[str | None], Iterable[PcmFormat]] = lambda _voice: (),
        ready: asyncio.Event | None = None,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        """``voices``: the voices in use now; ``formats``: the PCM formats a voice's satellites
        take (each new sentence is converted to them at once, so first use costs nothing);
        ``ready``: set once the fixed phrases are cached (the prewarmer starts after them)."""
        self.client = client
        self.cache = cache
        self._voices = voices
        self._formats = formats
        self._ready = ready
        self.budget_bytes = budget_bytes
        self._urgent: PrewarmJob | None = None
        self._background: list[PrewarmJob] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # nothing queued (set by the worker)
        self._speaking = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._quiet_since = asyncio.get_running_loop().time()
        # What this prewarmer added: (voice, sentence key) -> bytes, least recently wanted first.
        self._added: OrderedDict[tuple[str | None, str], int] = OrderedDict()
        self.held_bytes = 0
        self.last_job: PrewarmJob | None = None
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the worker. Its own task, not one of Home Assistant's background tasks: those
        are awaited by ``async_block_till_done(wait_background_tasks=True)``, and speaking ahead
        never ends. The owner stops it (``stop``) on unload and when Home Assistant stops."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(
                self.run(), name="blip voice speaking ahead"
            )

    def stop(self) -> None:
        """Cancel the worker (what was cached stays)."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    # -- requests -----------------------------------------------------------------------------

    def request(self, texts: Iterable[str], *, urgent: bool) -> PrewarmJob:
        """Queue ``texts`` (split into the cache's sentences); returns the job to wait on."""
        job = PrewarmJob(tuple(phrase_sentences(texts)), urgent)
        if urgent:
            if self._urgent is not None:
                self._urgent.superseded = True
                self._urgent.done.set()
            self._urgent = job
            self.last_job = job
        else:
            self._background.append(job)
        if not job.sentences:
            job.done.set()
        self._idle.clear()
        self._wake.set()
        return job

    def is_cached(self, text: str) -> bool:
        """Whether every sentence of ``text`` is held for every voice in use."""
        voices = list(dict.fromkeys(self._voices()))
        return bool(voices) and all(
            self.cache.contains(voice, sentence)
            for sentence in phrase_sentences([text])
            for voice in voices
        )

    @property
    def background_jobs(self) -> list[PrewarmJob]:
        """Background jobs not finished yet, oldest first."""
        return list(self._background)

    async def async_wait_idle(self) -> None:
        """Until every queued sentence is cached or failed (benchmarks, diagnostics)."""
        await self._idle.wait()

    # -- live speech ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def speaking(self) -> Iterator[None]:
        """Around every live stream: nothing is synthesized ahead while one is speaking."""
        self._speaking += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._speaking -= 1
            if self._speaking <= 0:
                self._speaking = 0
                self._quiet_since = asyncio.get_running_loop().time()
                self._quiet.set()

    # -- the worker -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Work through the requests until cancelled (Blip voice's unload)."""
        if self._ready is not None:
            await self._ready.wait()
        while True:
            job, sentence = self._next()
            if job is None:
                self._wake.clear()
                self._idle.set()
                await self._wake.wait()
                continue
            if sentence is not None:
                if not job.urgent and not await self._background_turn():
                    job.next_index -= 1  # an urgent request came first: this sentence waits
                    continue
                try:
                    await self._warm(job, sentence)
                except asyncio.CancelledError:
                    raise
                except Exception:  # one bad sentence must not stop speaking ahead
                    _LOGGER.exception("Blip voice could not synthesize a sentence ahead")
                    job.failed += 1
            else:
                job.done.set()

    def _next(self) -> tuple[PrewarmJob | None, str | None]:
        """The next sentence to synthesize, urgent first; (job, None) when a job is finished."""
        if (job := self._urgent) is None and self._background:
            job = self._background[0]
        if job is None:
            return None, None
        if job.next_index < len(job.sentences):
            job.next_index += 1
            return job, job.sentences[job.next_index - 1]
        if job is self._urgent:
            self._urgent = None
        else:
            self._background.pop(0)
        return job, None

    async def _background_turn(self) -> bool:
        """Wait for a quiet moment; False if an urgent request arrived meanwhile."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + MAX_WAIT_FOR_QUIET_S * BACKGROUND_PATIENCE
        while self._urgent is None:
            quiet_for = loop.time() - self._quiet_since
            if self._speaking:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._quiet.wait(), MAX_WAIT_FOR_QUIET_S)
            elif quiet_for >= BACKGROUND_QUIET_S or loop.time() >= give_up:
                return True
            else:
                # A timer, not polling: wake when the quiet moment is long enough, or for an
                # urgent request.
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), BACKGROUND_QUIET_S - quiet_for)
            if loop.time() >= give_up:
                return True
        return False

    async def _warm(self, job: PrewarmJob, sentence: str) -> None:
        for voice in list(dict.fromkeys(self._voices())):
            key = (voice, sentence_key(sentence))
            if self.cache.contains(voice, sentence):
                job.already_cached += 1
                if key in self._added:
                    self._added.move_to_end(key)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), MAX_WAIT_FOR_QUIET_S)
            report = await self.cache.async_warm(self.client, [sentence], voice)
            if report.failed or not self.cache.contains(voice, sentence):
                job.failed += 1
                continue
            job.synthesized += 1
            targets = list(dict.fromkeys(self._formats(voice)))
            for target in targets:
                await self.cache.async_prepare_format(voice, target)
            # The budget counts the voice's own audio and every converted copy.
            native = self.cache.native_format(voice)
            size = sum(
                len(self.cache.get_now(voice, sentence, target) or b"")
                for target in dict.fromkeys([*([native] if native else []), *targets])
            )
            self._added[key] = size
            self.held_bytes += size
            self._keep_within_budget()

    def _keep_within_budget(self) -> None:
        while self.held_bytes > self.budget_bytes and len(self._added) > 1:
            (voice, key), size = self._added.popitem(last=False)
            self.cache.discard(voice, key)
            self.held_bytes -= size
