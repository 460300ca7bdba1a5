"""Replay the test set against each backend, one request at a time, and time every answer.

Concurrency is 1 on purpose: the figures are what one child waiting for one answer sees, and
parallel requests would measure the server's queue instead. Cases go in turn to every backend
(case 1 to drill, local, Claude, then case 2 ...) so a slow minute on the network is shared
fairly. Every case has a deadline; a failure, a timeout or an empty answer is counted as an
error of its kind and the run carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
import contextlib
from dataclasses import dataclass
import logging
import time
from typing import Any, Final, Protocol

from ..agent.backends import BackendFailure, ChatMessage
from ..agent.prompts import system_prompt
from ..agent.speech import SentenceSplitter, check_local_sentence

# The agent's own answer budgets, so the benchmark asks exactly what a turn asks.
from ..agent.turn import max_tokens_for
from ..brain import Activity, Backend, DrillEngine
from .scoring import AnswerScore, Check, score_answer, words_of
from .testset import EXACT_ACTIVITIES, BenchCase

_LOGGER = logging.getLogger(__name__)

DEFAULT_CASE_TIMEOUT: Final = 20.0
# The name the system prompt uses for the child; the case gives the age.
BENCH_CHILD_NAME: Final = "Sam"


class DrillDeclined(Exception):
    """The drill engine has no answer for this case (the router would ask a model)."""


class ModelClient(Protocol):
    """What the agent's backend clients offer (LocalModelClient, ClaudeClient)."""

    name: str

    def stream(
        self, system: str, messages: Sequence[ChatMessage], max_tokens: int
    ) -> AsyncIterator[str]:
        """Stream an answer's text; raise BackendFailure when it can't."""
        ...


class BenchTarget(Protocol):
    """A backend under test."""

    name: str

    def handles(self, activity: Activity) -> bool:
        """Whether this backend is benchmarked on an activity."""
        ...

    def answer(self, case: BenchCase) -> AsyncIterator[str]:
        """Stream the answer to one case."""
        ...

    async def warm_up(self) -> None:
        """Untimed preparation before the first timed case."""
        ...


class DrillTarget:
    """The drill engine: instant and exact for spelling and math, nothing else."""

    name = Backend.DRILL.value

    def __init__(self, engine: DrillEngine | None = None) -> None:
        """A fresh engine unless one is given."""
        self._engine = engine or DrillEngine()

    def handles(self, activity: Activity) -> bool:
        """Only spelling and math: the drill engine answers nothing else."""
        return activity in EXACT_ACTIVITIES

    async def warm_up(self) -> None:
        """Load the word lists and compile the patterns before anything is timed."""
        self._engine.respond("how do you spell cat", None, 7)
        self._engine.respond("what is 2 plus 2", None, 7)

    async def answer(self, case: BenchCase) -> AsyncIterator[str]:
        """The engine's one-shot answer (no drill session in progress)."""
        reply = self._engine.respond(case.prompt, None, case.age)
        if reply is None:
            raise DrillDeclined(case.id)
        yield reply.text


class ModelTarget:
    """A model backend through the agent's client, with the agent's prompts and budgets."""

    def __init__(self, client: ModelClient) -> None:
        """Wrap one of the agent's backend clients."""
        self._client = client
        self.name = client.name

    def handles(self, activity: Activity) -> bool:
        """Models are benchmarked on every activity."""
        return activity is not Activity.SAFETY

    async def warm_up(self) -> None:
        """Nothing: a model's first answer (a cold connection) is part of what a child gets."""

    def answer(self, case: BenchCase) -> AsyncIterator[str]:
        """The model's streamed answer to the child's question, as a first turn."""
        system = system_prompt(case.activity, BENCH_CHILD_NAME, case.age)
        messages = [ChatMessage(role="user", content=case.prompt)]
        return self._client.stream(system, messages, max_tokens_for(case.activity))


@dataclass
class CaseResult:
    """One backend's answer to one case, timed and scored."""

    case_id: str
    activity: Activity
    backend: str
    answer: str | None = None  # None when it failed or declined
    error: str | None = None  # a FailureKind value, "timeout", "empty" or "unexpected:..."
    declined: bool = False
    first_token_ms: float | None = None
    total_ms: float | None = None
    tokens: int = 0  # words in the answer
    score: AnswerScore | None = None
    output_check: str | None = None  # the local output check's reason, when it objects
    judge: float | None = None  # the optional llm-judge, 0-1

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "case": self.case_id,
            "activity": self.activity.value,
            "backend": self.backend,
            "answer": self.answer,
            "error": self.error,
            "declined": self.declined,
            "first_token_ms": _round(self.first_token_ms),
            "total_ms": _round(self.total_ms),
            "tokens": self.tokens,
            "score": None if self.score is None else round(self.score.score, 4),
            "passed": bool(self.score and self.score.passed),
            "failed_checks": {
                check.name: check.detail
                for check in (self.score.checks if self.score else ())
                if not check.passed
            },
            "output_check": self.output_check,
            "llm_judge": self.judge,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _first_output_problem(answer: str) -> str | None:
    """Why the agent's light output check would object to a local answer, if it would."""
    splitter = SentenceSplitter()
    sentences = [*splitter.feed(answer), splitter.flush()]
    for sentence in sentences:
        if (problem := check_local_sentence(sentence)) is not None:
            return problem.reason
    return None


async def run_case(
    case: BenchCase, target: BenchTarget, case_timeout: float = DEFAULT_CASE_TIMEOUT
) -> CaseResult:
    """Ask one backend one case; never raises (but lets cancellation through)."""
    result = CaseResult(case.id, case.activity, target.name)
    parts: list[str] = []
    started = time.perf_counter()
    first: float | None = None
    try:
        async with asyncio.timeout(case_timeout):
            stream = target.answer(case)
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for chunk in stream:
                    if first is None and chunk.strip():
                        first = time.perf_counter()
                    parts.append(chunk)
    except DrillDeclined:
        result.declined = True
    except TimeoutError:
        result.error = "timeout"
    except BackendFailure as failure:
        result.error = failure.kind.value
    except Exception as err:  # a benchmark reports a broken backend, it does not crash on it
        _LOGGER.debug("Unexpected error from %s on case %s", target.name, case.id, exc_info=True)
        result.error = f"unexpected:{type(err).__name__}"
    finished = time.perf_counter()
    text = "".join(parts)
    if result.error is None and not result.declined:
        if text.strip():
            result.answer = text
            result.first_token_ms = ((first or finished) - started) * 1000
            result.total_ms = (finished - started) * 1000
            result.tokens = len(words_of(text))
            result.score = score_answer(case, text)
            if target.name == Backend.LOCAL.value:
                result.output_check = _first_output_problem(text)
        else:
            result.error = "empty"
    if result.score is None:
        reason = "declined" if result.declined else f"error: {result.error}"
        result.score = AnswerScore(0.0, False, (Check("answered", False, reason),))
    return result


class AnswerJudge(Protocol):
    """The optional llm-judge: rates an answer from 0 to 1, or None when it cannot."""

    async def rate(self, case: BenchCase, answer: str) -> float | None:
        """Rate one answer."""
        ...


type ProgressCallback = Callable[[int, int, CaseResult], None]


def plan_runs(
    cases: Sequence[BenchCase], targets: Sequence[BenchTarget]
) -> list[tuple[BenchCase, BenchTarget]]:
    """Every (case, backend) pair to run, case by case."""
    return [(case, target) for case in cases for target in targets if target.handles(case.activity)]


async def run_benchmark(
    cases: Sequence[BenchCase],
    targets: Sequence[BenchTarget],
    *,
    case_timeout: float = DEFAULT_CASE_TIMEOUT,
    on_progress: ProgressCallback | None = None,
    judge: AnswerJudge | None = None,
) -> list[CaseResult]:
    """Run every case against every backend that handles its activity, one at a time."""
    plan = plan_runs(cases, targets)
    for target in targets:
        await target.warm_up()
    results: list[CaseResult] = []
    for index, (case, target) in enumerate(plan, 1):
        result = await run_case(case, target, case_timeout)
        if judge is not None and result.answer is not None:
            # Judged after the timing: the judge's own time is never the backend's.
            result.judge = await judge.rate(case, result.answer)
        results.append(result)
        if on_progress is not None:
            on_progress(index, len(plan), result)
    return results
