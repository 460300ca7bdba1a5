"""How Blip's backends have been doing, and how long each turn took.

``BackendHealth`` decides whether the local model is slow enough to need a filler, when a
backend counts as down (a repairs issue) or back, and rests a failing backend briefly so a child
does not wait on its timeout turn after turn. ``TurnTimings`` keeps recent per-turn stage times
for diagnostics (and, later, sensors).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
import logging
import statistics
import time
from typing import Any

from .backends import OUTAGE_KINDS, FailureKind

_LOGGER = logging.getLogger(__name__)


@dataclass
class BackendStatus:
    """One backend's recent record."""

    consecutive_outages: int = 0
    last_failure: FailureKind | None = None
    last_failure_at: float | None = None
    auth_failed_at: float | None = None
    down: bool = False  # a repairs issue is open for it
    first_token_s: deque[float] = field(default_factory=lambda: deque(maxlen=5))


class BackendHealth:
    """Tracks successes and failures per backend ("local", "claude")."""

    def __init__(
        self,
        *,
        down_after: int = 3,
        rest_s: float = 30.0,
        auth_cooldown_s: float = 60.0,
        slow_first_token_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``down_after`` consecutive outages make a backend "down" (and rested for ``rest_s``)."""
        self._down_after = down_after
        self.rest_s = rest_s
        self._auth_cooldown_s = auth_cooldown_s
        self.slow_first_token_s = slow_first_token_s
        self._clock = clock
        self._status: dict[str, BackendStatus] = {}

    def status(self, backend: str) -> BackendStatus:
        """The record for one backend."""
        return self._status.setdefault(backend, BackendStatus())

    def record_success(self, backend: str, first_token_s: float | None) -> bool:
        """A full answer came; returns True when the backend was down and has recovered."""
        status = self.status(backend)
        if first_token_s is not None:
            status.first_token_s.append(first_token_s)
        status.consecutive_outages = 0
        status.auth_failed_at = None
        recovered, status.down = status.down, False
        return recovered

    def record_failure(self, backend: str, kind: FailureKind) -> bool:
        """A failure; returns True when this one makes the backend count as down."""
        status = self.status(backend)
        now = self._clock()
        status.last_failure = kind
        status.last_failure_at = now
        if kind is FailureKind.AUTH:
            status.auth_failed_at = now
        if kind not in OUTAGE_KINDS:
            return False
        status.consecutive_outages += 1
        if not status.down and status.consecutive_outages >= self._down_after:
            status.down = True
            return True
        return False

    def auth_blocked(self, backend: str) -> bool:
        """The key was just rejected: don't wait on it again until the family fixes it."""
        status = self.status(backend)
        return (
            status.auth_failed_at is not None
            and self._clock() - status.auth_failed_at < self._auth_cooldown_s
        )

    def resting(self, backend: str) -> bool:
        """Down and failed recently: try another backend first (it is probed again later)."""
        status = self.status(backend)
        return (
            status.consecutive_outages >= self._down_after
            and status.last_failure_at is not None
            and self._clock() - status.last_failure_at < self.rest_s
        )

    def seems_slow(self, backend: str) -> bool:
        """Its recent time to first spoken text is above the filler threshold."""
        samples = self.status(backend).first_token_s
        return bool(samples) and statistics.median(samples) > self.slow_first_token_s

    def as_diagnostics(self) -> dict[str, Any]:
        """Health per backend, for diagnostics."""
        return {
            name: {
                "down": status.down,
                "consecutive_outages": status.consecutive_outages,
                "last_failure": status.last_failure,
                "recent_first_token_ms": [round(s * 1000) for s in status.first_token_s],
            }
            for name, status in self._status.items()
        }


@dataclass(frozen=True)
class TurnTiming:
    """Stage times of one turn, in milliseconds from the turn's start."""

    activity: str
    answered_by: str  # drill, local, claude, safe_reply, fixed_reply, limit
    routing_ms: float
    filler_ms: float | None  # when the filler was handed to TTS (None: no filler)
    first_token_ms: float | None  # when the answer's first text was handed to TTS
    total_ms: float
    failures: tuple[str, ...] = ()  # "local:unreachable", … on the way to the answer


class TurnTimings:
    """The most recent turns' timings."""

    def __init__(self, keep: int = 100) -> None:
        """Keep the last ``keep`` turns."""
        self._turns: deque[TurnTiming] = deque(maxlen=keep)
        self._listeners: list[Callable[[TurnTiming], None]] = []

    def record(self, timing: TurnTiming) -> None:
        """Add one turn and tell the listeners (the timing sensors)."""
        self._turns.append(timing)
        for listener in list(self._listeners):
            try:
                listener(timing)
            except Exception:
                # Timing is bookkeeping: it must never break the turn it times.
                _LOGGER.exception("A turn timing listener failed")

    def add_listener(self, listener: Callable[[TurnTiming], None]) -> Callable[[], None]:
        """Call ``listener`` with every recorded turn; returns the function that stops it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @property
    def recent(self) -> list[TurnTiming]:
        """The kept turns, oldest first."""
        return list(self._turns)

    @property
    def last(self) -> TurnTiming | None:
        """The latest turn, if any."""
        return self._turns[-1] if self._turns else None

    def __len__(self) -> int:
        """How many turns are kept."""
        return len(self._turns)

    def as_diagnostics(self) -> dict[str, Any]:
        """Recent turns and medians per backend (no child text: there is none in here)."""
        by_backend: dict[str, dict[str, Any]] = {}
        for backend in sorted({t.answered_by for t in self._turns}):
            turns = [t for t in self._turns if t.answered_by == backend]
            first = [t.first_token_ms for t in turns if t.first_token_ms is not None]
            by_backend[backend] = {
                "turns": len(turns),
                "median_routing_ms": round(statistics.median(t.routing_ms for t in turns), 2),
                "median_first_token_ms": round(statistics.median(first), 1) if first else None,
                "median_total_ms": round(statistics.median(t.total_ms for t in turns), 1),
            }
        return {"recent": [asdict(t) for t in list(self._turns)[-10:]], "by_backend": by_backend}
