"""The recommended routing table: the best backend per activity under a latency budget.

Per activity, the candidates are the backends that answered at least one case (the drill
engine only for spelling and math). Among those whose latency (by default the 95th percentile
of time to first token: when a child starts hearing an answer) is within the budget, the
highest score wins; a tie goes to the faster one, where latencies within ``LATENCY_TIE_MS``
of the fastest count as equally fast (a child cannot hear the difference, and the clock's noise
is larger), and among those to the one that is cheaper and works offline (drill, then local,
then Claude). When none is within the budget, the fastest
candidate is recommended and marked as over budget. An activity nobody answered gets no row,
so importing the table keeps its current backend.

Safety is never part of it: safety turns always go to Claude, fixed in code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..brain import Activity, Backend, parse_routing_table
from .stats import CellStats
from .testset import EXACT_ACTIVITIES

DEFAULT_BUDGET_MS: Final = 2000.0
DEFAULT_BUDGET_METRIC: Final = "first_token_p95"
BUDGET_METRICS: Final = (
    "first_token_p50",
    "first_token_p95",
    "total_p50",
    "total_p95",
)
# Equal scores within this are a tie (floating sums of quarters).
_SCORE_EPSILON: Final = 1e-9
LATENCY_TIE_MS: Final = 10.0
_PREFERENCE: Final = {Backend.DRILL.value: 0, Backend.LOCAL.value: 1, Backend.CLAUDE.value: 2}


@dataclass(frozen=True)
class ActivityChoice:
    """The recommendation for one activity, and why."""

    activity: Activity
    backend: str
    score: float
    latency_ms: float
    within_budget: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "backend": self.backend,
            "score": round(self.score, 4),
            "latency_ms": round(self.latency_ms, 1),
            "within_budget": self.within_budget,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Recommendation:
    """The best backend per activity, under a budget."""

    budget_ms: float
    metric: str
    choices: dict[Activity, ActivityChoice]

    @property
    def routing(self) -> dict[str, str]:
        """Activity -> backend, in the shape of the ``routing`` option (no safety row)."""
        return {activity.value: choice.backend for activity, choice in self.choices.items()}

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "budget_ms": self.budget_ms,
            "metric": self.metric,
            "routing": self.routing,
            "choices": {a.value: choice.as_dict() for a, choice in self.choices.items()},
        }


def _eligible(cell: CellStats) -> bool:
    if cell.activity is Activity.SAFETY or cell.answered == 0:
        return False
    if cell.backend == Backend.DRILL.value:
        return cell.activity in EXACT_ACTIVITIES
    return cell.backend in _PREFERENCE


def _latency(cell: CellStats, metric: str) -> float:
    return cell.latency(metric) or 0.0


def _fastest_then_cheapest(tied: list[CellStats], metric: str) -> CellStats:
    fastest = min(_latency(c, metric) for c in tied)
    as_fast = [c for c in tied if _latency(c, metric) <= fastest + LATENCY_TIE_MS]
    return min(
        as_fast, key=lambda c: (_PREFERENCE.get(c.backend, len(_PREFERENCE)), _latency(c, metric))
    )


def recommend(
    cells: Sequence[CellStats],
    budget_ms: float = DEFAULT_BUDGET_MS,
    metric: str = DEFAULT_BUDGET_METRIC,
) -> Recommendation:
    """The best backend per activity among the benchmark's cells."""
    if metric not in BUDGET_METRICS:
        raise ValueError(f"unknown latency metric {metric!r}; expected one of {BUDGET_METRICS}")
    if not budget_ms > 0:
        raise ValueError(f"the latency budget must be positive, got {budget_ms}")
    choices: dict[Activity, ActivityChoice] = {}
    for activity in Activity:
        candidates = [c for c in cells if c.activity is activity and _eligible(c)]
        if not candidates:
            continue
        in_budget = [c for c in candidates if _latency(c, metric) <= budget_ms]
        if in_budget:
            best_score = max(c.score for c in in_budget)
            tied = [c for c in in_budget if best_score - c.score <= _SCORE_EPSILON]
            best = _fastest_then_cheapest(tied, metric)
            if len(candidates) == 1:
                why = "the only backend that answered"
            elif len(in_budget) == 1:
                why = "the only backend within the budget"
            elif len(tied) > 1:
                why = "ties on score; faster, or as fast and cheaper"
            else:
                why = "highest score within the budget"
            over = [c.backend for c in candidates if c not in in_budget]
            if over:
                why += f" ({', '.join(over)} over budget)"
            within = True
        else:
            best = min(candidates, key=lambda c: (_latency(c, metric), -c.score))
            why = "no backend is within the budget; this one is the fastest"
            within = False
        choices[activity] = ActivityChoice(
            activity=activity,
            backend=best.backend,
            score=best.score,
            latency_ms=_latency(best, metric),
            within_budget=within,
            reason=why,
        )
    recommendation = Recommendation(budget_ms=budget_ms, metric=metric, choices=choices)
    # The table must be one the options flow accepts (this also guards the safety row).
    parse_routing_table(recommendation.routing)
    return recommendation
