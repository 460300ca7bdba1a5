"""High-recall safety check that runs on every turn (first version; patterns grow below)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import re

from .activities import HistoryTurn, SafetyCategory


@dataclass(frozen=True)
class SafetyFinding:
    """A turn that needs a grown-up's attention."""

    category: SafetyCategory
    # Abuse and violence at home may involve a parent: alert only the adult the family designated.
    designated_adult_only: bool


_DESIGNATED_ONLY = frozenset({SafetyCategory.ABUSE, SafetyCategory.VIOLENCE_AT_HOME})

_PATTERNS: tuple[tuple[SafetyCategory, re.Pattern[str]], ...] = (
    (
        SafetyCategory.SELF_HARM,
        re.compile(r"\b(kill myself|want to die|hurt myself|disappear forever)\b"),
    ),
    (SafetyCategory.ABUSE, re.compile(r"\b(our secret|touch(es|ed)? my private)\b")),
    (SafetyCategory.GROOMING, re.compile(r"\bonline\b.*\b(address|picture|photo)\b")),
    (SafetyCategory.IMMEDIATE_DANGER, re.compile(r"\b(won'?t wake up|fire|home alone)\b")),
)


def check_safety(text: str, history: Sequence[HistoryTurn] = ()) -> SafetyFinding | None:
    """Return a finding when the turn needs a grown-up, else None."""
    lowered = text.lower()
    for category, pattern in _PATTERNS:
        if pattern.search(lowered):
            return SafetyFinding(category, category in _DESIGNATED_ONLY)
    return None
