"""A child's limits: quiet hours, daily minutes, pause, and the kind words when Blip rests.

Pure: ``ChildProgress.check_limits`` applies these to the child's day; the Home Assistant side
reads the settings from the child's subentry and the family's options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, Final

# After this long in one session Blip suggests a break (once per session).
BREAK_REMINDER_AFTER: Final = timedelta(minutes=25)

REASON_PAUSED: Final = "paused"
REASON_QUIET_HOURS: Final = "quiet_hours"
REASON_DAILY_MINUTES: Final = "daily_minutes"

# Kind goodbyes: no question mark, so the satellite does not open the microphone again.
GOODBYES: Final[Mapping[str, str]] = {
    REASON_PAUSED: (
        "Blip is having a little rest right now, {name}. "
        "Ask a grown-up when you'd like to play again. Bye for now!"
    ),
    REASON_QUIET_HOURS: (
        "It's quiet time now, {name}, so Blip is resting too. "
        "Let's talk again later. Sleep tight and see you soon!"
    ),
    REASON_DAILY_MINUTES: (
        "We had so much fun today, {name}! That's all our time for today. "
        "Let's play again tomorrow. Bye for now!"
    ),
}
BREAK_REMINDER: Final = (
    "We've been playing for a while, {name}. Time for a little break! "
    "Have a stretch and a drink of water, and come back soon."
)


@dataclass(frozen=True)
class LimitVerdict:
    """Whether Blip may play with a child now, and what to say if not.

    ``reason`` is "paused", "quiet_hours" or "daily_minutes" when play is declined; ``reply`` is
    then a kind goodbye to speak. ``break_reminder`` (only when allowed) is a short suggestion to
    take a break, to say after the answer.
    """

    allowed: bool
    reason: str | None = None
    reply: str | None = None
    break_reminder: str | None = None


@dataclass(frozen=True)
class LimitSettings:
    """A child's limits: daily minutes (0 = none) and quiet hours (None = none)."""

    daily_minutes: int = 0
    quiet_start: time | None = None
    quiet_end: time | None = None

    def in_quiet_hours(self, moment: time) -> bool:
        """Quiet hours include their start and exclude their end; they may wrap midnight."""
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None or start == end:
            return False
        moment = moment.replace(tzinfo=None)
        if start < end:
            return start <= moment < end
        return moment >= start or moment < end


def parse_time_of_day(value: Any) -> time | None:
    """Parse "HH:MM" or "HH:MM:SS"; None for an empty value.

    Raises ValueError with a clear message for anything else.
    """
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"Not a time of day (expected HH:MM or HH:MM:SS): {value!r}") from None
