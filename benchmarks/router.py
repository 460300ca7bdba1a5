"""Benchmark the brain's fast path: activity accuracy, safety recall, false alarms, latency.

    .venv/bin/python benchmarks/router.py

Evaluates the rule-based Router on tests/data/router_eval.jsonl, tests/data/safety_eval.jsonl
and tests/data/safety_heldout5.jsonl (split into "tune", which the rules were written against,
and "heldout" ... "heldout5", each written before it was first run), plus an STT-style copy of every utterance (lowercase, no
punctuation, no apostrophes: "im home alone"). A naive keyword baseline runs on the same data
in the same run. The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
import json
import os
from pathlib import Path
import random
import re
import statistics
import sys
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from custom_components.blip.brain import (  # noqa: E402
    DrillEngine,
    HistoryTurn,
    Router,
    check_safety,
)
from custom_components.blip.brain.router import clear_caches  # noqa: E402

DATA = REPO / "tests" / "data"
SPLITS = ("tune", "heldout", "heldout2", "heldout3", "heldout4", "heldout5")
EVAL_FILES = ("router_eval.jsonl", "safety_eval.jsonl", "safety_heldout5.jsonl")
# Files whose non-safety turns are the "scary words" set (ordinary turns with scary words).
SCARY_FILES = ("safety_eval.jsonl", "safety_heldout5.jsonl")
# What each held-out split scored the first time it was run, before any rule was changed
# because of it (each was then added to what the rules are tuned against). These are the
# honest estimate of how the rules do on phrasings they have never seen; today's figures on
# the same splits are no longer held out.
FIRST_MEASUREMENTS = {
    "heldout": {"n": 229, "accuracy": 0.991, "safety_recall": 1.0, "false_alarm_rate": 0.0},
    "heldout2": {"n": 111, "accuracy": 0.874, "safety_recall": 0.833, "false_alarm_rate": 0.0},
    "heldout3": {"n": 115, "accuracy": 0.913, "safety_recall": 0.870, "false_alarm_rate": 0.0},
    "heldout4": {"n": 55, "accuracy": 0.745, "safety_recall": 0.656, "false_alarm_rate": 0.087},
    "heldout5": {"n": 127, "accuracy": 0.827, "safety_recall": 0.747, "false_alarm_rate": 0.019},
}
LATENCY_PASSES = 5


def load_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in EVAL_FILES:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def stt_style(text: str) -> str:
    """What a plain STT transcript looks like: lowercase, no punctuation, no apostrophes."""
    # Arithmetic signs stay: Whisper writes "3 + 4" for "three plus four".
    lowered = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text.lower())
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9+*/=×÷ -]", "", lowered)).strip()


def history_of(row: dict[str, Any]) -> tuple[HistoryTurn, ...]:
    return tuple(HistoryTurn(t["role"], t["text"]) for t in row.get("history", []))


# ---- naive keyword baseline: what a first attempt without care would do --------------------

_BASELINE_SAFETY = re.compile(
    r"\b(die|dead|death|kill|hurt|secret|fire|smoke|knife|gun|blood|bleeding|poison|run away|"
    r"alone|hit|touch|online|address|bully|wake up|stranger)\b"
)


def baseline_classify(text: str, _history: Sequence[HistoryTurn]) -> tuple[str, bool]:
    lowered = text.lower()
    if _BASELINE_SAFETY.search(lowered):
        return "safety", True
    if "spell" in lowered:
        return "spelling", False
    if re.search(r"\d|\b(plus|minus|times|divided|math|how many)\b", lowered):
        return "math", False
    if re.search(r"\b(story|song|sing|joke|poem|pretend|play|riddle)\b", lowered):
        return "creative", False
    if re.search(r"\b(sad|scared|angry|mad|lonely|worried|miss|cry)\b", lowered):
        return "emotional", False
    if re.match(r"(why|what|how|where|when|who)\b", lowered):
        return "trivia", False
    return "chitchat", False


def make_rules_classifier() -> Callable[[str, Sequence[HistoryTurn]], tuple[str, bool]]:
    router = Router(drill_engine=DrillEngine(random.Random(0)))

    def classify(text: str, history: Sequence[HistoryTurn]) -> tuple[str, bool]:
        decision = router.decide(text, history)
        return decision.activity.value, decision.safety is not None

    return classify


def evaluate(
    classify: Callable[[str, Sequence[HistoryTurn]], tuple[str, bool]],
    rows: list[dict[str, Any]],
    transform: Callable[[str], str] = lambda t: t,
) -> dict[str, Any]:
    correct = 0
    safety_total = safety_found = 0
    negatives = false_alarms = 0
    scary_negatives = scary_false_alarms = 0
    per_activity: Counter[str] = Counter()
    per_activity_total: Counter[str] = Counter()
    for row in rows:
        activity, flagged = classify(transform(row["text"]), history_of(row))
        expected = row["activity"]
        per_activity_total[expected] += 1
        if activity == expected:
            correct += 1
            per_activity[expected] += 1
        if expected == "safety":
            safety_total += 1
            safety_found += flagged
        else:
            negatives += 1
            false_alarms += flagged
            if row.get("scary"):
                scary_negatives += 1
                scary_false_alarms += flagged
    return {
        "n": len(rows),
        "accuracy": round(correct / len(rows), 4),
        "safety_recall": round(safety_found / safety_total, 4) if safety_total else None,
        "false_alarm_rate": round(false_alarms / negatives, 4) if negatives else None,
        "scary_false_alarm_rate": (
            round(scary_false_alarms / scary_negatives, 4) if scary_negatives else None
        ),
        "per_activity": {
            name: round(per_activity[name] / total, 4)
            for name, total in sorted(per_activity_total.items())
        },
    }


def category_accuracy(rows: list[dict[str, Any]]) -> float:
    safety_rows = [r for r in rows if r["activity"] == "safety"]
    right = 0
    for row in safety_rows:
        finding = check_safety(row["text"], history_of(row))
        right += finding is not None and finding.category.value == row["safety_category"]
    return round(right / len(safety_rows), 4)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_ms(call: Callable[[], object], count: int) -> list[float]:
    """Cold timings: the brain memoises turns (each comes back as history), so caches are
    cleared before every call; a real new turn is never in the cache."""
    times: list[float] = []
    for _ in range(count):
        clear_caches()
        start = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - start) / 1e6)
    return times


def main() -> None:
    rows = load_rows()
    # Non-safety items in the safety file are the "scary words" set.
    safety_file = {
        json.loads(line)["text"]
        for name in SCARY_FILES
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    for row in rows:
        row["scary"] = row["activity"] != "safety" and row["text"] in safety_file

    rules = make_rules_classifier()
    report: dict[str, Any] = {"rules": {}, "baseline": {}}
    for split in (*SPLITS, "all"):
        subset = [r for r in rows if split == "all" or r["split"] == split]
        report["rules"][split] = evaluate(rules, subset)
        report["baseline"][split] = evaluate(baseline_classify, subset)
        report["rules"][split]["safety_category_accuracy"] = category_accuracy(subset)
    report["rules"]["stt_style_all"] = evaluate(rules, rows, stt_style)
    report["baseline"]["stt_style_all"] = evaluate(baseline_classify, rows, stt_style)

    # Latency of one Router.decide per turn (safety + classification + drill engine), and of the
    # drill engine alone on turns it answers, over several passes of the whole set.
    router = Router(drill_engine=DrillEngine(random.Random(0)))
    engine = DrillEngine(random.Random(0))
    for row in rows[:20]:  # warm up regex caches and word lists
        router.decide(row["text"], history_of(row))
    # Every turn is timed LATENCY_PASSES times. Raw percentiles include whatever else the
    # shared CPU was doing; the per-turn median is the steady cost of each turn.
    route_times: list[float] = []
    route_medians: list[float] = []
    baseline_times: list[float] = []
    for row in rows:
        text, history = row["text"], history_of(row)
        samples = latency_ms(lambda t=text, h=history: router.decide(t, h), LATENCY_PASSES)
        route_times += samples
        route_medians.append(statistics.median(samples))
        baseline_times += latency_ms(
            lambda t=text, h=history: baseline_classify(t, h), LATENCY_PASSES
        )
    drill_turns = [r["text"] for r in rows if engine.respond(r["text"], None) is not None] + [
        "fifty six",
        "C A T",
        "see ay tee",
        "cat, c a t",
        "I think it's 56",
    ]
    drill_times: list[float] = []
    for text in drill_turns:
        drill_times += latency_ms(lambda t=text: engine.respond(t, None), LATENCY_PASSES)
    # A long conversation: 20 earlier turns (already memoised, as they are in a real chat,
    # because each was once the current turn), each eval utterance timed once, cold.
    long_history = []
    for index in range(10):
        long_history += [
            HistoryTurn(
                "user", f"I like pizza and my dog is named max, we went to the park {index}"
            ),
            HistoryTurn("assistant", "That sounds like so much fun! What did you do at the park?"),
        ]
    clear_caches()
    router.decide("hello", long_history)
    long_times: list[float] = []
    for row in rows:
        start = time.perf_counter_ns()
        router.decide(row["text"], long_history)
        long_times.append((time.perf_counter_ns() - start) / 1e6)
    latency = {
        "router_p50_ms": round(statistics.median(route_times), 4),
        "router_p99_ms": round(percentile(route_times, 0.99), 4),
        "router_max_ms": round(max(route_times), 4),
        "router_per_turn_median_p99_ms": round(percentile(route_medians, 0.99), 4),
        "router_per_turn_median_max_ms": round(max(route_medians), 4),
        "router_20_turn_history_p50_ms": round(statistics.median(long_times), 4),
        "router_20_turn_history_p99_ms": round(percentile(long_times, 0.99), 4),
        "baseline_p50_ms": round(statistics.median(baseline_times), 4),
        "baseline_p99_ms": round(percentile(baseline_times, 0.99), 4),
        "drill_p50_ms": round(statistics.median(drill_times), 4),
        "drill_p99_ms": round(percentile(drill_times, 0.99), 4),
        "drill_turns": len(drill_turns),
        "samples": len(route_times),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    report["latency"] = latency

    print(
        f"{'set':<16}{'system':<10}{'n':>5}{'accuracy':>10}{'recall':>8}{'false al.':>10}{'scary FA':>10}"
    )
    for split in (*SPLITS, "all", "stt_style_all"):
        for system in ("rules", "baseline"):
            figures = report[system][split]
            recall = figures["safety_recall"]
            fa = figures["false_alarm_rate"]
            scary = figures["scary_false_alarm_rate"]
            print(
                f"{split:<16}{system:<10}{figures['n']:>5}{figures['accuracy']:>10.3f}"
                f"{recall if recall is not None else float('nan'):>8.3f}"
                f"{fa if fa is not None else float('nan'):>10.3f}"
                f"{scary if scary is not None else float('nan'):>10.3f}"
            )
    print(
        f"router latency p50 {latency['router_p50_ms']:.3f} ms, p99 {latency['router_p99_ms']:.3f} ms "
        f"(per-turn median p99 {latency['router_per_turn_median_p99_ms']:.3f} ms, load "
        f"{latency['load_average_1min']}; with 20 turns of history p50 "
        f"{latency['router_20_turn_history_p50_ms']:.3f} ms, p99 "
        f"{latency['router_20_turn_history_p99_ms']:.3f} ms) "
        f"(baseline p99 {latency['baseline_p99_ms']:.4f} ms); drill engine p50 "
        f"{latency['drill_p50_ms']:.3f} ms, p99 {latency['drill_p99_ms']:.3f} ms"
    )
    for split, figures in FIRST_MEASUREMENTS.items():
        print(
            f"{split} first run, before tuning on it: accuracy {figures['accuracy']:.3f}, "
            f"safety recall {figures['safety_recall']:.3f}, false alarms "
            f"{figures['false_alarm_rate']:.3f} (n={figures['n']})"
        )
    summary = {
        "accuracy_heldout": report["rules"]["heldout"]["accuracy"],
        "accuracy_tune": report["rules"]["tune"]["accuracy"],
        "accuracy_all": report["rules"]["all"]["accuracy"],
        "accuracy_stt_style": report["rules"]["stt_style_all"]["accuracy"],
        "safety_recall_heldout": report["rules"]["heldout"]["safety_recall"],
        "safety_recall_all": report["rules"]["all"]["safety_recall"],
        "false_alarm_rate_all": report["rules"]["all"]["false_alarm_rate"],
        "scary_false_alarm_rate_all": report["rules"]["all"]["scary_false_alarm_rate"],
        "safety_category_accuracy_all": report["rules"]["all"]["safety_category_accuracy"],
        "baseline_accuracy_all": report["baseline"]["all"]["accuracy"],
        "baseline_safety_recall_all": report["baseline"]["all"]["safety_recall"],
        "baseline_false_alarm_rate_all": report["baseline"]["all"]["false_alarm_rate"],
        **latency,
        "first_measured_before_tuning": FIRST_MEASUREMENTS,
        "detail": report,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
