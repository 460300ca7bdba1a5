"""Blip's fast path: activity router, safety check and instant drill engine.

Pure Python with no Home Assistant import, so it is tested and benchmarked directly.
"""

from .activities import (
    DEFAULT_ROUTING,
    Activity,
    Backend,
    HistoryTurn,
    SafetyCategory,
    parse_routing_table,
)
from .drills import DrillEngine, DrillReply, DrillResult, DrillState
from .router import RouteDecision, Router, classify_activity
from .safety import SafetyFinding, check_safety

__all__ = [
    "DEFAULT_ROUTING",
    "Activity",
    "Backend",
    "DrillEngine",
    "DrillReply",
    "DrillResult",
    "DrillState",
    "HistoryTurn",
    "RouteDecision",
    "Router",
    "SafetyCategory",
    "SafetyFinding",
    "check_safety",
    "classify_activity",
    "parse_routing_table",
]
