"""One turn of Blip's conversation, as a stream of chat-log deltas.

The router has already decided (safety first, then activity and backend). This module turns
that decision into speech and makes sure a child always hears something:

- a drill answer is spoken at once;
- slow routes start with a filler, and the answer continues in the same assistant message;
- a backend that fails before its answer starts hands the turn to the next one (local model ->
  Claude, Claude -> local model for non-safety turns), then to the drill engine, then to a
  friendly fixed reply;
- a failure after the answer started is finished with a short spoken apology;
- safety turns go to Claude with the child-safety prompt and a short first-token deadline, and
  fall back to a pre-written safe reply for the category; never to the local model;
- guarded turns (the on-box checks are unsure, a harmful request, a jailbreak attempt, the turn
  after Claude's second opinion heard distress) go to Claude with the guarded child-safety
  prompt, else a pre-written careful reply; never to the local model either;
- every sentence of the local model's answer is checked for content unfit for a child; an unfit
  answer is asked of Claude instead, or replaced with a gentle fixed reply;
- Claude answering a turn may flag distress with a marker that is stripped before speech.

Nothing but cancellation escapes ``TurnEngine.stream``: an exception there would leave Home
Assistant's TTS stream open and the child in silence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
import contextlib
from dataclasses import dataclass, field
import functools
import logging
import time
from typing import Any, Literal

from ..brain import (
    Activity,
    Backend,
    DrillEngine,
    DrillReply,
    DrillState,
    RouteDecision,
    SafetyCategory,
)
from ..brain.drills import ItemPicker
from ..brain.output_check import check_unfit
from ..phrases import FIXED_REPLIES
from .backends import BackendFailure, ChatMessage, ClaudeClient, FailureKind, LocalModelClient
from .fillers import FillerPicker
from .health import BackendHealth
from .limits import AnswerCap
from .prompts import (
    UNFIT_REPLY,
    guarded_prompt,
    guarded_reply,
    safe_reply,
    safety_prompt,
    system_prompt,
)
from .second_opinion import DISTRESS_MARKER_INSTRUCTION, DistressFlag, DistressMarkerFilter
from .speech import SentenceSplitter, SpokenTextFilter, check_local_sentence

_LOGGER = logging.getLogger(__name__)

NAPPING_REPLY = FIXED_REPLIES[0]
APOLOGY_REPLY = FIXED_REPLIES[1]

# Longest answer spoken from the local model (it has no sense of "short" of its own).
LOCAL_MAX_CHARS = 450
_MAX_TOKENS: dict[Activity, int] = {
    Activity.CREATIVE: 500,
    Activity.EMOTIONAL: 300,
    Activity.SAFETY: 300,
}
_DEFAULT_MAX_TOKENS = 200
# Claude is asked for max_tokens; what is spoken is capped too, in case a gateway ignores it
# (about four characters per token of English).
_CHARS_PER_TOKEN = 4
# Everything said in one turn after the filler: the answer, an apology, a closing. Below the
# TTS server's 5,000-character limit for one streamed request.
TURN_MAX_CHARS = 3000


def max_tokens_for(activity: Activity) -> int:
    """How long an answer may be for this activity (the benchmark asks the same)."""
    return _MAX_TOKENS.get(activity, _DEFAULT_MAX_TOKENS)


@dataclass(frozen=True)
class Deadlines:
    """How long Blip waits on a backend, in seconds."""

    claude_first_token: float = 6.0  # a filler is playing meanwhile
    # A backend not known to be slow (the local model before its first answers) that has said
    # nothing after this long gets a filler anyway, so the first slow turn is not silent either.
    filler_grace: float = 0.5
    local_first_token: float = 3.0
    between_chunks: float = 5.0  # a stream that goes quiet this long has stalled
    # Safety turns: a pre-written safe reply beats a long wait.
    safety_first_token: float = 3.5
    safety_between_chunks: float = 3.0
    # The whole turn, over every backend tried: then whatever was said is ended kindly.
    turn_total: float = 30.0
    safety_turn_total: float = 12.0


@dataclass(frozen=True)
class TurnRequest:
    """Everything one turn needs besides the backends."""

    text: str
    history: Sequence[ChatMessage]  # earlier turns, fillers removed, oldest first
    decision: RouteDecision
    child_name: str
    age: int | None
    country: str | None
    filler_enabled: bool
    drill_state: DrillState | None = None
    # Chooses drill items from the child's memory (progress.practice_picker).
    picker: ItemPicker | None = None
    extra_system_prompt: str | None = None
    closing: str | None = None  # said after the answer (e.g. a reminder to take a break)
    # What the local model may see of the history when it differs (no safety disclosure).
    local_history: Sequence[ChatMessage] | None = None
    # Said first on a guarded turn: the check-in after Claude's second opinion heard distress.
    opening: str | None = None
    concern: SafetyCategory | None = None  # what that check-in was about, if known
    # Called once the answer is over (before ``closing``): a check-in to say right after it.
    after_answer: Callable[[], str | None] | None = None
    # Claude may flag distress in its answer (the caller alerts the adults).
    watch_distress: bool = False


@dataclass
class TurnReport:
    """What happened during a turn; filled in while it streams."""

    started: float = field(default_factory=time.monotonic)
    answered_by: str | None = None  # drill, local, claude, safe_reply, fixed_reply
    filler: str | None = None
    filler_at: float | None = None
    first_text_at: float | None = None
    finished_at: float | None = None
    failures: list[BackendFailure] = field(default_factory=list)
    answer: str = ""  # what was spoken after the filler
    drill_reply: DrillReply | None = None  # set when the drill engine answered
    claude_flag: DistressFlag | None = None  # Claude's answer flagged distress
    unfit: str | None = None  # why the local model's answer was not spoken (never the words)

    def ms(self, moment: float | None) -> float | None:
        """Milliseconds from the turn's start to ``moment``."""
        return None if moment is None else round((moment - self.started) * 1000, 1)


type Speech = tuple[Literal["filler", "answer"], str]


class TurnEngine:
    """Runs turns against the configured backends; one per Blip entry."""

    def __init__(
        self,
        *,
        claude: ClaudeClient | None,
        local: LocalModelClient | None,
        drills: DrillEngine,
        health: BackendHealth,
        deadlines: Deadlines | None = None,
        on_failure: Callable[[BackendFailure, bool], None] | None = None,
        on_success: Callable[[str, bool], None] | None = None,
    ) -> None:
        """``on_failure(failure, became_down)`` / ``on_success(backend, recovered)`` let Home
        Assistant start reauth and open or close repairs issues."""
        self.claude = claude
        self.local = local
        self.drills = drills
        self.health = health
        self.deadlines = deadlines or Deadlines()
        self._on_failure = on_failure
        self._on_success = on_success

    async def stream(
        self, request: TurnRequest, report: TurnReport, fillers: FillerPicker
    ) -> AsyncIterator[dict[str, Any]]:
        """The assistant message for this turn, as chat-log deltas."""
        yield {"role": "assistant"}
        safety = _is_safety(request.decision)
        total = self.deadlines.safety_turn_total if safety else self.deadlines.turn_total
        deadline = asyncio.get_running_loop().time() + total
        turn_cap = AnswerCap(TURN_MAX_CHARS)
        parts = self._with_closing(request, report, fillers)
        try:
            async with contextlib.aclosing(parts):
                while True:
                    try:
                        async with asyncio.timeout_at(deadline):
                            kind, text = await anext(parts)
                    except StopAsyncIteration:
                        break
                    if kind == "answer":
                        text = turn_cap.feed(text)
                    if not text:
                        if turn_cap.reached:
                            break
                        continue
                    now = time.monotonic()
                    if kind == "filler":
                        report.filler, report.filler_at = text, now
                    else:
                        if report.first_text_at is None:
                            report.first_text_at = now
                        report.answer += text
                    yield {"content": text}
                    if turn_cap.reached:
                        break
            if rest := turn_cap.finish():
                report.answer += rest
                yield {"content": rest}
        except TimeoutError:
            _LOGGER.warning("Blip's turn took longer than %g s; ending it", total)
            closing = self._ending(request, report, safety)
            report.answer += closing
            yield {"content": closing}
        except Exception:  # the child must hear something, whatever broke
            _LOGGER.exception("Blip's turn failed unexpectedly")
            closing = self._ending(request, report, safety)
            report.answer += closing
            yield {"content": closing}
        finally:
            report.finished_at = time.monotonic()

    def _ending(self, request: TurnRequest, report: TurnReport, safety: bool) -> str:
        """What ends a turn that broke or ran out of time: never silence, never a cut-off."""
        said = report.answer or report.filler or ""
        if safety:
            # A safety turn always ends in the safe reply for its category.
            report.answered_by = "safe_reply"
            return _joined(said, _safe_reply_or_apology(request, said))
        if request.decision.guarded:
            report.answered_by = "safe_reply"
            return _joined(said, guarded_reply(request.country))
        report.answered_by = report.answered_by or "fixed_reply"
        return _joined(said, APOLOGY_REPLY if report.answer else NAPPING_REPLY)

    async def _with_closing(
        self, request: TurnRequest, report: TurnReport, fillers: FillerPicker
    ) -> AsyncIterator[Speech]:
        async for part in self._speech(request, report, fillers):
            yield part
        if request.after_answer is not None and (extra := request.after_answer()):
            yield "answer", _joined(report.answer, extra)
        if request.closing:
            yield "answer", _joined(report.answer, request.closing)

    async def _speech(
        self, request: TurnRequest, report: TurnReport, fillers: FillerPicker
    ) -> AsyncIterator[Speech]:
        decision = request.decision
        if (safety := _is_safety(decision)) or decision.guarded:
            async for part in self._careful_speech(request, report, fillers, safety=safety):
                yield part
            return
        if decision.drill_reply is not None:
            report.answered_by = "drill"
            report.drill_reply = decision.drill_reply
            yield "answer", decision.drill_reply.text
            return
        async for part in self._model_speech(request, report, fillers):
            yield part

    async def _careful_speech(
        self, request: TurnRequest, report: TurnReport, fillers: FillerPicker, *, safety: bool
    ) -> AsyncIterator[Speech]:
        """Claude with a child-safety prompt, else a pre-written reply. Never the local model.

        A safety turn gets the safety prompt for its category, else the category's safe reply; a
        guarded turn the guarded prompt (it may open with a check-in, and Claude may flag
        distress in it), else a careful fixed reply.
        """
        category = request.decision.safety.category if request.decision.safety else None
        opening = None if safety else request.opening
        if opening:
            # Ends in a space, like a filler, so Claude's answer continues it.
            yield "answer", opening.rstrip() + " "
        elif request.filler_enabled:
            yield "filler", fillers.pick(Activity.SAFETY)
        if self.claude is not None and not self.health.auth_blocked(self.claude.name):
            if safety:
                system = safety_prompt(
                    category,
                    request.child_name,
                    request.age,
                    request.country,
                    already_said=report.filler,
                )
            else:
                system = guarded_prompt(
                    request.concern,
                    request.child_name,
                    request.age,
                    already_said=opening or report.filler,
                )
            markers = DistressMarkerFilter() if request.watch_distress and not safety else None
            answer = self._claude_answer(
                system,
                request,
                _MAX_TOKENS[Activity.SAFETY],
                self.deadlines.safety_first_token,
                self.deadlines.safety_between_chunks,
                markers,
            )
            started = time.monotonic()
            first_text: float | None = None
            try:
                async with contextlib.aclosing(answer):
                    async for text in answer:
                        first_text = first_text or time.monotonic() - started
                        yield "answer", text
            except BackendFailure as failure:
                self._failed(report, failure)
            else:
                report.answered_by = "claude"
                self._succeeded("claude", first_text)
                return
            finally:
                if markers is not None and markers.flag is not None:
                    report.claude_flag = markers.flag
        report.answered_by = "safe_reply"
        if safety:
            reply = safe_reply(
                category, request.country, already_said=report.answer or report.filler
            )
        else:
            reply = guarded_reply(request.country, after_check_in=bool(opening))
        yield "answer", _joined(report.answer, reply)

    async def _model_speech(
        self, request: TurnRequest, report: TurnReport, fillers: FillerPicker
    ) -> AsyncIterator[Speech]:
        """Local model or Claude as routed, each the other's fallback, then drills, then napping."""
        for backend in self._chain(request.decision.backend):
            # Claude always takes a moment; the local model when it has lately been slow, or
            # (with no record yet, or fast until now) when it says nothing within the grace.
            slow = backend == "claude" or self.health.seems_slow(backend)
            want_filler = request.filler_enabled and report.filler is None and not report.answer
            if want_filler and slow:
                yield "filler", fillers.pick(request.decision.activity)
            started = time.monotonic()
            first_text: float | None = None
            answer = self._backend_answer(backend, request, report)
            pick = functools.partial(fillers.pick, request.decision.activity)
            spoken = (
                _filler_if_quiet(answer, self.deadlines.filler_grace, pick)
                if want_filler and not slow
                else _as_answer(answer)
            )
            try:
                async with contextlib.aclosing(spoken):
                    async for kind, text in spoken:
                        if kind == "answer":
                            first_text = first_text or time.monotonic() - started
                        yield kind, text
            except BackendFailure as failure:
                self._failed(report, failure)
                if report.answer:
                    # The child already heard part of an answer: finish it kindly.
                    report.answered_by = backend
                    yield "answer", _joined(report.answer, APOLOGY_REPLY)
                    return
                continue
            report.answered_by = backend
            self._succeeded(backend, first_text)
            return
        if (reply := self._drill_fallback(request)) is not None:
            report.answered_by = "drill"
            report.drill_reply = reply
            yield "answer", reply.text
            return
        report.answered_by = "fixed_reply"
        # The local model's answer was unfit and nothing else could answer: say something kind.
        yield "answer", UNFIT_REPLY if report.unfit else NAPPING_REPLY

    def _chain(self, routed: Backend) -> list[str]:
        """Backends to try in order: the routed one first, the other as its fallback."""
        order = ["claude", "local"] if routed is Backend.CLAUDE else ["local", "claude"]
        usable = [
            name
            for name in order
            if (name == "local" and self.local is not None)
            or (name == "claude" and self.claude is not None and not self.health.auth_blocked(name))
        ]
        # A backend that keeps failing waits while another can answer; it is probed again later.
        return [name for name in usable if not self.health.resting(name)] or usable

    async def _backend_answer(
        self, backend: str, request: TurnRequest, report: TurnReport
    ) -> AsyncIterator[str]:
        activity = request.decision.activity
        system = system_prompt(
            activity, request.child_name, request.age, request.extra_system_prompt
        )
        max_tokens = max_tokens_for(activity)
        markers: DistressMarkerFilter | None = None
        if backend == "claude":
            markers = DistressMarkerFilter() if request.watch_distress else None
            stream = self._claude_answer(
                system,
                request,
                max_tokens,
                self.deadlines.claude_first_token,
                self.deadlines.between_chunks,
                markers,
            )
        else:
            stream = self._local_answer(system, request, max_tokens, report)
        try:
            async with contextlib.aclosing(stream):
                async for text in stream:
                    yield text
        finally:
            if markers is not None and markers.flag is not None:
                report.claude_flag = markers.flag

    async def _claude_answer(
        self,
        system: str,
        request: TurnRequest,
        max_tokens: int,
        first_token_s: float,
        between_s: float,
        markers: DistressMarkerFilter | None = None,
    ) -> AsyncIterator[str]:
        """Claude's answer, cleaned for speech; with ``markers``, Claude is told it may flag
        distress and its marker is taken out before anything is spoken."""
        assert self.claude is not None
        if markers is not None:
            system = f"{system}\n\n{DISTRESS_MARKER_INSTRUCTION}"
        messages = [*request.history, ChatMessage(role="user", content=request.text)]
        speech = SpokenTextFilter()
        cap = AnswerCap(max_tokens * _CHARS_PER_TOKEN)
        spoke = False
        chunks = _with_deadlines(
            self.claude.name,
            self.claude.stream(system, messages, max_tokens),
            first_token_s,
            between_s,
        )
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                visible = markers.feed(chunk) if markers is not None else chunk
                if text := cap.feed(speech.feed(visible)):
                    spoke = True
                    yield text
                if cap.reached:
                    _LOGGER.info("Claude's answer reached its cap; the rest is not spoken")
                    return
        tail = speech.feed(markers.flush() if markers is not None else "") + speech.flush()
        if rest := cap.feed(tail) + cap.finish():
            spoke = True
            yield rest
        if not spoke:
            raise BackendFailure(self.claude.name, FailureKind.EMPTY, "no text")

    async def _local_answer(
        self, system: str, request: TurnRequest, max_tokens: int, report: TurnReport
    ) -> AsyncIterator[str]:
        """The local model's answer, released sentence by sentence once each passes the check.

        A first sentence that fails hands the turn on (to Claude when it can answer; without
        Claude, an answer that only needs cleanup is cleaned and spoken). A later failure ends
        the answer at the last good sentence. A sentence unfit for a child is never spoken,
        with or without Claude.
        """
        assert self.local is not None
        local_name = self.local.name
        strict = self.claude is not None and not self.health.auth_blocked("claude")
        history = request.history if request.local_history is None else request.local_history
        messages = [*history, ChatMessage(role="user", content=request.text)]
        splitter = SentenceSplitter()
        speech = SpokenTextFilter()
        cap = AnswerCap(LOCAL_MAX_CHARS)
        spoken = 0
        unsplit = 0  # characters the splitter holds: a sentence still being written
        chunks = self.local.stream(system, messages, max_tokens)
        guarded = _with_deadlines(
            self.local.name,
            chunks,
            self.deadlines.local_first_token,
            self.deadlines.between_chunks,
        )

        def accept(sentence: str) -> str | None:
            """Cleaned sentence to speak, or None to stop the answer here."""
            if (unfit := check_unfit(sentence)) is not None:
                report.unfit = unfit.value
                _LOGGER.warning(
                    "The local model's answer was unfit for a child (%s); it is not spoken",
                    unfit.value,
                )
                if not spoken:
                    raise BackendFailure(
                        local_name, FailureKind.BAD_OUTPUT, f"unfit: {unfit.value}"
                    )
                return None
            problem = check_local_sentence(sentence)
            if problem is not None and (strict or not problem.cosmetic):
                if not spoken:
                    raise BackendFailure(local_name, FailureKind.BAD_OUTPUT, problem.reason)
                return None
            return cap.feed(speech.feed(sentence))

        async with contextlib.aclosing(guarded):
            async for chunk in guarded:
                unsplit += len(chunk)
                for sentence in splitter.feed(chunk):
                    unsplit -= len(sentence)
                    cleaned = accept(sentence)
                    if cleaned is None:
                        return
                    if cleaned:
                        spoken += len(cleaned)
                        yield cleaned
                    if cap.reached:
                        return
                if cap.released + unsplit > LOCAL_MAX_CHARS:
                    # A sentence longer than what is left of the cap: do not wait for its end
                    # (a run-on may never have one); it is ended within the cap below.
                    break
        rest = splitter.flush()
        if rest.strip() and len(rest) > LOCAL_MAX_CHARS:
            rest = rest[: LOCAL_MAX_CHARS + 1]  # the check need not read past what is said
        cleaned = accept(rest) if rest.strip() else ""
        if cleaned is not None:
            cleaned += cap.feed(speech.flush()) + cap.finish()
            if cleaned:
                spoken += len(cleaned)
                yield cleaned
        if not spoken:
            raise BackendFailure(self.local.name, FailureKind.EMPTY, "no text")

    def _drill_fallback(self, request: TurnRequest) -> DrillReply | None:
        """Spelling and math can still be answered exactly when both models are out."""
        try:
            return self.drills.respond(
                request.text, request.drill_state, request.age, request.picker
            )
        except Exception:  # a fallback must not become the failure
            _LOGGER.exception("Drill engine failed as a fallback")
            return None

    def _failed(self, report: TurnReport, failure: BackendFailure) -> None:
        report.failures.append(failure)
        _LOGGER.warning("Blip backend failed: %s", failure)
        became_down = self.health.record_failure(failure.backend, failure.kind)
        if self._on_failure is not None:
            try:
                self._on_failure(failure, became_down)
            except Exception:  # bookkeeping must not cost the child an answer
                _LOGGER.exception("Error handling a backend failure")

    def _succeeded(self, backend: str, first_text_s: float | None) -> None:
        recovered = self.health.record_success(backend, first_text_s)
        if self._on_success is not None:
            try:
                self._on_success(backend, recovered)
            except Exception:  # bookkeeping must not cost the child an answer
                _LOGGER.exception("Error handling a backend success")


def _is_safety(decision: RouteDecision) -> bool:
    return decision.safety is not None or decision.activity is Activity.SAFETY


def _safe_reply_or_apology(request: TurnRequest, already_said: str) -> str:
    """The category's safe reply; should even that fail, the apology (never silence)."""
    try:
        category = request.decision.safety.category if request.decision.safety else None
        return safe_reply(category, request.country, already_said=already_said)
    except Exception:
        _LOGGER.exception("Blip's safe reply failed")
        return APOLOGY_REPLY


def _joined(before: str, text: str) -> str:
    """``text`` as it continues ``before``: after a space, and after a cut-off sentence, a pause."""
    if not before:
        return text
    if before[-1].isspace():
        return text
    if before[-1] in ".!?":
        return " " + text
    return "... " + text


async def _as_answer(answer: AsyncIterator[str]) -> AsyncIterator[Speech]:
    async with contextlib.aclosing(answer):  # type: ignore[type-var]
        async for text in answer:
            yield "answer", text


async def _filler_if_quiet(
    answer: AsyncIterator[str], grace: float, pick: Callable[[], str]
) -> AsyncIterator[Speech]:
    """The answer, preceded by a filler when its first text takes longer than ``grace``.

    The answer is read in one task of its own (its HTTP stream's timers belong to one task);
    closing this generator cancels that task, which closes the answer.
    """
    queue: asyncio.Queue[tuple[str | None, Exception | None]] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for text in answer:
                await queue.put((text, None))
        except Exception as err:  # handed to the reader, who raises it
            await queue.put((None, err))
        else:
            await queue.put((None, None))

    reader = asyncio.create_task(pump(), name="blip-answer-reader")
    try:
        try:
            async with asyncio.timeout(grace):
                item = await queue.get()
        except TimeoutError:
            yield "filler", pick()
            item = await queue.get()
        while True:
            text, error = item
            if error is not None:
                raise error
            if text is None:
                return
            yield "answer", text
            item = await queue.get()
    finally:
        if not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _with_deadlines(
    backend: str, chunks: AsyncIterator[str], first_s: float, between_s: float
) -> AsyncIterator[str]:
    """Pass chunks through, failing when nothing speakable came ``first_s`` after the request
    or the stream then has nothing speakable for ``between_s``.

    Only text with a letter or digit moves the deadline: a stream of spaces, newlines or
    markdown keeps the connection busy but says nothing, and must not hold a child waiting.
    """
    iterator = aiter(chunks)
    loop = asyncio.get_running_loop()
    wait, kind = first_s, FailureKind.TIMEOUT
    deadline = loop.time() + wait
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError as err:
                raise BackendFailure(backend, kind, f"nothing speakable for {wait:g} s") from err
            yield chunk
            if _speakable(chunk):
                wait, kind = between_s, FailureKind.STALLED
                deadline = loop.time() + wait
    finally:
        await iterator.aclose()  # type: ignore[attr-defined]


def _speakable(chunk: str) -> bool:
    return any(char.isalnum() for char in chunk)
