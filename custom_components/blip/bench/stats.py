"""Per backend and activity figures: score, passes, errors, latency percentiles, tokens.

The score of a cell counts every case: an error, a timeout or a declined case scores 0, so a
backend cannot look good by failing the hard questions. Latency figures are over the answered
cases only (a timeout's "latency" is the timeout, not the backend's speed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
import math
from typing import TYPE_CHECKING, Any

from ..brain import Activity, Backend

if TYPE_CHECKING:
    from .runner import CaseResult


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Latency:
    """Mean, median and 95th percentile of one timing, in milliseconds."""

    mean: float
    p50: float
    p95: float
    count: int

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> Latency | None:
        """The figures of some timings, or None without any."""
        if not values_ms:
            return None
        return cls(
            mean=sum(values_ms) / len(values_ms),
            p50=percentile(values_ms, 50),
            p95=percentile(values_ms, 95),
            count=len(values_ms),
        )

    def as_dict(self) -> dict[str, float | int]:
        """JSON form, rounded to 0.1 ms."""
        return {
            "mean": round(self.mean, 1),
            "p50": round(self.p50, 1),
            "p95": round(self.p95, 1),
            "count": self.count,
        }


@dataclass(frozen=True)
class CellStats:
    """How one backend did on one activity."""

    backend: str
    activity: Activity
    cases: int
    answered: int  # a non-empty answer arrived in time
    passed: int  # every check passed
    declined: int  # the drill engine had no answer
    errors: int  # the backend failed or timed out
    error_kinds: dict[str, int]
    score: float  # mean over every case, failures as 0
    first_token_ms: Latency | None
    total_ms: Latency | None
    tokens_mean: float  # words per answer (a token count every backend can be held to)
    tokens_total: int
    output_check_failures: int  # answers the agent's local output check would hand on
    judge_mean: float | None = None  # the optional llm-judge, 0-1; never part of the score
    failed_checks: dict[str, int] = field(default_factory=dict)

    def latency(self, metric: str) -> float | None:
        """A latency figure by name: ``first_token_p95``, ``total_p50``, ..."""
        timing, _, stat = metric.rpartition("_")
        figures = {"first_token": self.first_token_ms, "total": self.total_ms}.get(timing)
        if figures is None or stat not in ("mean", "p50", "p95"):
            raise ValueError(f"unknown latency metric {metric!r}")
        return getattr(figures, stat)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "backend": self.backend,
            "activity": self.activity.value,
            "cases": self.cases,
            "answered": self.answered,
            "passed": self.passed,
            "declined": self.declined,
            "errors": self.errors,
            "error_kinds": dict(sorted(self.error_kinds.items())),
            "score": round(self.score, 4),
            "first_token_ms": self.first_token_ms.as_dict() if self.first_token_ms else None,
            "total_ms": self.total_ms.as_dict() if self.total_ms else None,
            "tokens_mean": round(self.tokens_mean, 1),
            "tokens_total": self.tokens_total,
            "token_unit": "words",
            "output_check_failures": self.output_check_failures,
            "failed_checks": dict(sorted(self.failed_checks.items())),
            "llm_judge": None if self.judge_mean is None else round(self.judge_mean, 4),
        }


def cell_stats(backend: str, activity: Activity, results: Sequence[CaseResult]) -> CellStats:
    """Figures of one backend's results on one activity."""
    error_kinds: dict[str, int] = {}
    failed_checks: dict[str, int] = {}
    for result in results:
        if result.error is not None:
            error_kinds[result.error] = error_kinds.get(result.error, 0) + 1
        if result.score is not None:
            for name in result.score.failed():
                failed_checks[name] = failed_checks.get(name, 0) + 1
    answered = [r for r in results if r.answer is not None]
    judged = [r.judge for r in results if r.judge is not None]
    return CellStats(
        backend=backend,
        activity=activity,
        cases=len(results),
        answered=len(answered),
        passed=sum(1 for r in results if r.score is not None and r.score.passed),
        declined=sum(1 for r in results if r.declined),
        errors=sum(1 for r in results if r.error is not None),
        error_kinds=error_kinds,
        score=(
            sum(r.score.score for r in results if r.score is not None) / len(results)
            if results
            else 0.0
        ),
        first_token_ms=Latency.of(
            [r.first_token_ms for r in answered if r.first_token_ms is not None]
        ),
        total_ms=Latency.of([r.total_ms for r in answered if r.total_ms is not None]),
        tokens_mean=(sum(r.tokens for r in answered) / len(answered)) if answered else 0.0,
        tokens_total=sum(r.tokens for r in answered),
        output_check_failures=sum(1 for r in answered if r.output_check is not None),
        judge_mean=(sum(judged) / len(judged)) if judged else None,
        failed_checks=failed_checks,
    )


def summarise(results: Iterable[CaseResult]) -> list[CellStats]:
    """One cell per (backend, activity) that has results: by activity, then drill, local,
    Claude (then any other backend in first-seen order)."""
    groups: dict[tuple[str, Activity], list[CaseResult]] = {}
    for result in results:
        groups.setdefault((result.backend, result.activity), []).append(result)
    order = {activity: index for index, activity in enumerate(Activity)}
    backends = [backend.value for backend in Backend]
    for backend, _ in groups:
        if backend not in backends:
            backends.append(backend)
    keys = sorted(groups, key=lambda key: (order[key[1]], backends.index(key[0])))
    return [cell_stats(backend, activity, groups[backend, activity]) for backend, activity in keys]
