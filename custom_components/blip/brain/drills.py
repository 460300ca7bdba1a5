"""Instant drill engine (first version: declines everything)."""

from __future__ import annotations

from dataclasses import dataclass, field
import random
from typing import Any


@dataclass
class DrillState:
    """Per-conversation drill session state."""

    kind: str
    item: str
    hints_used: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "item": self.item,
            "hints_used": self.hints_used,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillState:
        return cls(
            data["kind"], data["item"], data.get("hints_used", 0), dict(data.get("extra", {}))
        )


@dataclass(frozen=True)
class DrillResult:
    kind: str
    item: str
    correct: bool
    hints_used: int
    operation: str | None = None


@dataclass(frozen=True)
class DrillReply:
    text: str
    results: tuple[DrillResult, ...] = ()
    state: DrillState | None = None


class DrillEngine:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def respond(
        self, text: str, state: DrillState | None, age: int | None = None
    ) -> DrillReply | None:
        return None
