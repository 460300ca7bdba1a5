"""Activity router (first version)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .activities import DEFAULT_ROUTING, SAFETY_BACKEND, Activity, Backend, HistoryTurn
from .drills import DrillEngine, DrillReply, DrillState
from .safety import SafetyFinding, check_safety


@dataclass(frozen=True)
class RouteDecision:
    activity: Activity
    backend: Backend
    safety: SafetyFinding | None
    drill_reply: DrillReply | None
    long_chat: bool


def classify_activity(text: str, history: Sequence[HistoryTurn] = ()) -> Activity:
    lowered = text.lower()
    if "spell" in lowered:
        return Activity.SPELLING
    if any(w in lowered for w in ("plus", "minus", "times", "divided")):
        return Activity.MATH
    if any(w in lowered for w in ("story", "song", "joke", "poem")):
        return Activity.CREATIVE
    if any(w in lowered for w in ("sad", "scared", "lonely", "angry")):
        return Activity.EMOTIONAL
    if lowered.startswith(("why", "what", "how", "where", "who", "when")):
        return Activity.TRIVIA
    return Activity.CHITCHAT


class Router:
    def __init__(
        self,
        routing: Mapping[Activity, Backend] | None = None,
        drill_engine: DrillEngine | None = None,
    ) -> None:
        self._routing = dict(routing or DEFAULT_ROUTING)
        self._drills = drill_engine or DrillEngine()

    def decide(
        self,
        text: str,
        history: Sequence[HistoryTurn] = (),
        drill_state: DrillState | None = None,
        age: int | None = None,
    ) -> RouteDecision:
        finding = check_safety(text, history)
        if finding is not None:
            return RouteDecision(Activity.SAFETY, SAFETY_BACKEND, finding, None, False)
        activity = classify_activity(text, history)
        backend = self._routing.get(activity, DEFAULT_ROUTING[activity])
        if activity is Activity.SAFETY:
            backend = SAFETY_BACKEND
        return RouteDecision(activity, backend, None, None, False)
