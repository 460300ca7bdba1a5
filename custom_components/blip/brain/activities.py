"""Shared vocabulary of the brain: activities, backends, safety categories and the routing table.

No Home Assistant import: the router, the CLI and the tests use these directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Activity(StrEnum):
    """What a child's turn is about."""

    SPELLING = "spelling"
    MATH = "math"
    CHITCHAT = "chitchat"
    CREATIVE = "creative"
    TRIVIA = "trivia"
    EMOTIONAL = "emotional"
    SAFETY = "safety"


class Backend(StrEnum):
    """Who answers a turn."""

    DRILL = "drill"
    LOCAL = "local"
    CLAUDE = "claude"


class SafetyCategory(StrEnum):
    """Why a turn needs a grown-up's attention."""

    SELF_HARM = "self_harm"
    ABUSE = "abuse"
    GROOMING = "grooming"
    BULLYING = "bullying"
    VIOLENCE_AT_HOME = "violence_at_home"
    IMMEDIATE_DANGER = "immediate_danger"
    RUNNING_AWAY = "running_away"
    # No food, left alone, nobody came home, lost: nothing violent, still a child at risk.
    NEGLECT = "neglect"
    # Asking how to make a weapon, take drugs, try a dangerous challenge, or talking the model
    # out of its rules. Never an alert on its own: such turns are guarded (Claude, safety prompt).
    HARMFUL_REQUEST = "harmful_request"


# Defaults from the seed's benchmark: the local model is good enough (and fast) for drills and
# small talk; open-ended, factual and emotional turns go to Claude. Safety is fixed in code.
DEFAULT_ROUTING: Final[Mapping[Activity, Backend]] = MappingProxyType(
    {
        Activity.SPELLING: Backend.LOCAL,
        Activity.MATH: Backend.LOCAL,
        Activity.CHITCHAT: Backend.LOCAL,
        Activity.CREATIVE: Backend.CLAUDE,
        Activity.TRIVIA: Backend.CLAUDE,
        Activity.EMOTIONAL: Backend.CLAUDE,
        Activity.SAFETY: Backend.CLAUDE,
    }
)

# The one row no option can change: a safety turn never goes to the local model or a drill.
SAFETY_BACKEND: Final = Backend.CLAUDE


@dataclass(frozen=True)
class HistoryTurn:
    """One earlier turn of the conversation."""

    role: str  # "user" or "assistant"
    text: str


def parse_routing_table(data: Mapping[str, str]) -> dict[Activity, Backend]:
    """Validate routing options (activity name -> backend name) into a full routing table.

    Rows left out keep their defaults. Safety is fixed to Claude in code: a safety row saying
    "claude" is accepted as a no-op, any other safety row is a mistake worth reporting.
    """
    if not isinstance(data, Mapping):
        raise ValueError(
            f"Routing table must be a mapping of activity to backend, got {type(data).__name__}"
        )
    table = dict(DEFAULT_ROUTING)
    activity_names = ", ".join(a.value for a in Activity if a is not Activity.SAFETY)
    backend_names = ", ".join(b.value for b in Backend)
    for raw_activity, raw_backend in data.items():
        key = str(raw_activity).strip().lower()
        try:
            activity = Activity(key)
        except ValueError:
            raise ValueError(
                f"Unknown activity {raw_activity!r} in routing table; expected one of: {activity_names}"
            ) from None
        value = raw_backend.strip().lower() if isinstance(raw_backend, str) else None
        if activity is Activity.SAFETY:
            # "safety: claude" changes nothing and is accepted; anything else is refused.
            if value == SAFETY_BACKEND.value:
                continue
            raise ValueError(
                f"The safety row cannot be changed (got {raw_backend!r}): safety turns always go to Claude"
            )
        try:
            backend = Backend(value) if value is not None else None
        except ValueError:
            backend = None
        if backend is None:
            raise ValueError(
                f"Unknown backend {raw_backend!r} for activity {activity.value!r}; expected one of: {backend_names}"
            )
        table[activity] = backend
    table[Activity.SAFETY] = SAFETY_BACKEND
    return table
