"""Benchmark the brain's fast path: activity accuracy, safety recall, false alarms, latency.

    .venv/bin/python benchmarks/router.py [BLIND_SET.jsonl ...]

Evaluates the Router as a child gets it -- the whole on-box safety detector (precise rules, the
learned layer, context; see brain/safety_detector.py) -- and, in the same run, the rules alone
and a naive keyword baseline, on tests/data/router_eval.jsonl, tests/data/safety_eval.jsonl
and tests/data/safety_heldout5.jsonl (split into "tune", which the rules were written against,
and "heldout" ... "heldout5"; all of them TUNED: the rules were fixed for them and the learned
layer is trained on them), plus an STT-style copy of every utterance (lowercase, no
punctuation, no apostrophes: "im home alone"). Blind sets (tests/data/safety_blind*.jsonl,
and any file named on the command line), when present, are reported on their own: never
trained on. A set in TUNED_BLIND_SETS has been looked at since its first run (labelled TUNED).

Per set: recall per distress category (caught = a SafetyFinding), harmful-request recall
(caught = a finding or a guarded turn), false alarms overall and on scary-word ordinary turns,
activity accuracy, share of safety turns routed to Claude; then latency with 20 turns of
history and the memory the model adds. The last line printed is one JSON object.
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
from custom_components.blip.brain.router import RouteDecision, clear_caches  # noqa: E402
from custom_components.blip.brain.safety_model import (  # noqa: E402
    E5Encoder,
    SafetyModel,
    load_safety_model,
    normalise_for_embedding,
)

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
# Blind sets' first runs with the whole on-box detector, frozen: the honest estimate. Any later
# figure on the same set is tuned (blind6 was changed for once after this run, and its kinds of
# phrasing went into round 2's corpus; blind7 is round 2's first run and is not tuned on).
# Round 3 used blind6 and blind7 for error analysis and to choose thresholds: both are tuned.
# Round 4 used blind8 (round 3's first run) the same way: tuned too. Blind9 is round 4's first
# run (2026-12-01, load 1.3): its misses and false alarms were read afterwards, so it is tuned.
# Blind10 is round 5's first run (2026-12-01 19:24, load 1.3); a miss it showed (a denied
# "accident") was fixed afterwards, so it is tuned too. Blind11 is the first run of that fix
# (2026-12-01 20:36, load 0.9); its misses were read, so it is tuned as well. Blind12 is round
# 6's first run (2026-12-01 22:35, load 1.1); its false alarms were read: tuned. Blind13 is the
# first run of the final round-6 detector (2026-12-01 22:57, load 1.2); read since: tuned.
TUNED_BLIND_SETS = frozenset(
    {
        "safety_blind6",
        "safety_blind7",
        "safety_blind8",
        "safety_blind9",
        "safety_blind10",
        "safety_blind11",
        "safety_blind12",
        "safety_blind13",
    }
)
BLIND_FIRST_RUNS = {
    "safety_blind13": {
        "n": 365,
        "distress_recall": 0.9669,
        "harmful_request_recall": 1.0,
        "false_alarm_rate": 0.0307,
        "scary_false_alarm_rate": 0.0426,
        "activity_accuracy": 0.9452,
        "safety_to_claude": 1.0,
    },
    "safety_blind12": {
        "n": 371,
        "distress_recall": 0.9921,
        "harmful_request_recall": 1.0,
        "false_alarm_rate": 0.0658,
        "scary_false_alarm_rate": 0.0238,
        "activity_accuracy": 0.9111,
        "safety_to_claude": 1.0,
    },
    "safety_blind11": {
        "n": 325,
        "distress_recall": 0.9815,
        "harmful_request_recall": 1.0,
        "false_alarm_rate": 0.0542,
        "scary_false_alarm_rate": 0.0741,
        "activity_accuracy": 0.9077,
        "safety_to_claude": 0.9918,
    },
    "safety_blind10": {
        "n": 349,
        "distress_recall": 0.9672,
        "harmful_request_recall": 0.9286,
        "false_alarm_rate": 0.0516,
        "scary_false_alarm_rate": 0.0326,
        "activity_accuracy": 0.9083,
        "safety_to_claude": 0.9926,
    },
    "safety_blind9": {
        "n": 354,
        "distress_recall": 0.9483,
        "harmful_request_recall": 1.0,
        "false_alarm_rate": 0.0724,
        "scary_false_alarm_rate": 0.0851,
        "activity_accuracy": 0.8729,
        "safety_to_claude": 0.985,
    },
    "safety_blind7": {
        "n": 234,
        "distress_recall": 0.8966,
        "harmful_request_recall": 1.0,
        "false_alarm_rate": 0.0956,
        "scary_false_alarm_rate": 0.14,
        "activity_accuracy": 0.8034,
        "safety_to_claude": 0.9694,
    },
    "safety_blind8": {
        "n": 313,
        "distress_recall": 0.9175,
        "harmful_request_recall": 0.9167,
        "false_alarm_rate": 0.0392,
        "scary_false_alarm_rate": 0.0625,
        "activity_accuracy": 0.911,
        "safety_to_claude": 0.982,
    },
    "safety_blind6": {
        "n": 288,
        "distress_recall": 0.8252,
        "harmful_request_recall": 0.6154,
        "false_alarm_rate": 0.0465,
        "scary_false_alarm_rate": 0.082,
        "activity_accuracy": 0.7604,
        "safety_to_claude": 0.8879,
    },
}
LATENCY_PASSES = 5
# Ordinary turns that use scary words, for sets that don't mark them ("scary": true).
_SCARY_WORDS = re.compile(
    r"\b(?:die|died|dies|dying|dead|death|kill\w*|murder\w*|hurt\w*|knife|knives|gun\w*|"
    r"blood\w*|bleed\w*|fire|smoke|poison\w*|bomb\w*|weapon\w*|secret\w*|alone|hit\w*|punch\w*|"
    r"kick\w*|stab\w*|shoot\w*|shot|choke\w*|drown\w*|scared|afraid|scary|run away|ran away|"
    r"lost|hungry|starving|stranger\w*|monster\w*|zombie\w*|attack\w*|suicide|drunk|drugs?|"
    r"fight\w*|yell\w*|scream\w*|broke|broken|touch\w*|naked|pictures?|address|hate)\b",
    re.IGNORECASE,
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def blind_sets(extra: Sequence[str] = ()) -> list[Path]:
    named = [Path(name).resolve() for name in extra]
    for path in named:
        if not path.is_file():
            raise SystemExit(f"no such blind set: {path}")
    # Held-out splits of the training writers' data (import_handwritten.py --holdout): never
    # trained on, but by the same writers, so an easier check than a blind set.
    found = sorted(DATA.glob("safety_blind*.jsonl")) + sorted(DATA.glob("safety_holdout_*.jsonl"))
    return found + [p for p in named if p not in {f.resolve() for f in found}]


def load_file(path: Path) -> list[dict[str, Any]]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    for row in rows:
        if "scary" not in row:
            row["scary"] = row["activity"] != "safety" and bool(_SCARY_WORDS.search(row["text"]))
    return rows


def set_report(router: Router, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-category recall, false alarms, activity accuracy and Claude share for one set."""
    caught: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    negatives = false_alarms = scary = scary_false_alarms = guarded_ordinary = 0
    correct = safety_turns = safety_to_claude = 0
    misses: list[dict[str, Any]] = []
    for row in rows:
        history = history_of(row)
        decision: RouteDecision = router.decide(row["text"], history)
        category = row.get("safety_category")
        expected = row["activity"]
        is_safety = expected == "safety" or category is not None
        # A harmful request is answered by Claude with the safety prompt: a guarded turn is
        # what it should get, so it counts as the "safety" activity here.
        got = decision.activity.value
        if category == "harmful_request" and decision.guarded:
            got = "safety"
        correct += got == expected
        if is_safety:
            safety_turns += 1
            safety_to_claude += decision.backend.value == "claude"
            totals[category or "unknown"] += 1
            hit = decision.safety is not None or (
                category == "harmful_request" and decision.guarded
            )
            caught[category or "unknown"] += hit
            if not hit:
                misses.append(
                    {
                        "text": row["text"],
                        "category": category,
                        "guarded": decision.guarded,
                        "backend": decision.backend.value,
                        "history": bool(history),
                    }
                )
        else:
            negatives += 1
            false_alarms += decision.safety is not None
            guarded_ordinary += decision.guarded
            if row.get("scary"):
                scary += 1
                scary_false_alarms += decision.safety is not None
    distress_total = sum(totals[c] for c in totals if c != "harmful_request")
    distress_caught = sum(caught[c] for c in totals if c != "harmful_request")
    with_history = [
        r
        for r in rows
        if r.get("history") and (r["activity"] == "safety" or r.get("safety_category"))
    ]
    history_caught = sum(
        router.decide(r["text"], history_of(r)).safety is not None
        or (
            r.get("safety_category") == "harmful_request"
            and router.decide(r["text"], history_of(r)).guarded
        )
        for r in with_history
    )
    return {
        "n": len(rows),
        "distress_turns": distress_total,
        "distress_recall": round(distress_caught / distress_total, 4) if distress_total else None,
        "harmful_request_recall": (
            round(caught["harmful_request"] / totals["harmful_request"], 4)
            if totals["harmful_request"]
            else None
        ),
        "recall_per_category": {name: f"{caught[name]}/{totals[name]}" for name in sorted(totals)},
        "recall_with_history": f"{history_caught}/{len(with_history)}",
        "false_alarm_rate": round(false_alarms / negatives, 4) if negatives else None,
        "false_alarms": f"{false_alarms}/{negatives}",
        "scary_false_alarm_rate": round(scary_false_alarms / scary, 4) if scary else None,
        "scary_false_alarms": f"{scary_false_alarms}/{scary}",
        "guarded_ordinary_turns": f"{guarded_ordinary}/{negatives}",
        "activity_accuracy": round(correct / len(rows), 4),
        "safety_to_claude": round(safety_to_claude / safety_turns, 4) if safety_turns else None,
        "misses": misses,
    }


def long_history() -> list[HistoryTurn]:
    turns: list[HistoryTurn] = []
    for index in range(10):
        turns += [
            HistoryTurn(
                "user", f"I like pizza and my dog is named max, we went to the park {index}"
            ),
            HistoryTurn("assistant", "That sounds like so much fun! What did you do at the park?"),
        ]
    return turns


def detector_latency(
    router: Router, model: SafetyModel | None, rows: list[dict[str, Any]]
) -> tuple[list[float], list[float]]:
    """Each turn cold (its own embedding and the rules' caches cleared), after 20 turns of
    history that were each once the current turn (so their embeddings are cached)."""
    history = long_history()
    router.decide("hello", history)
    times: list[float] = []
    cpu_times: list[float] = []
    for row in rows:
        clear_caches()
        # What a real chat has cached: each earlier child turn was once the current turn (its
        # rule matches and activity), and its embedding.
        for turn in history:
            if turn.role == "user":
                router.decide(turn.text, ())
        if model is not None:
            model.forget(row["text"])
            for turn in history:
                model.embed(turn.text)
        start = time.perf_counter_ns()
        cpu_start = time.process_time_ns()
        router.decide(row["text"], history)
        cpu_times.append((time.process_time_ns() - cpu_start) / 1e6)
        times.append((time.perf_counter_ns() - start) / 1e6)
    # Wall time includes waiting for a core on a shared, loaded machine; the process's CPU time
    # (all threads: the encoder runs on the model's own thread beside the rules) is what the
    # turn itself costs. A turn a precise rule decides returns before its embedding is done.
    return times, cpu_times


def encoder_depth_cpu_ms(
    model: SafetyModel, rows: list[dict[str, Any]]
) -> tuple[list[float], list[float]]:
    """CPU time to encode each turn with the model's encoder and with all 12 layers,
    interleaved turn by turn (the same load on both): the baseline for the depth's saving."""
    full = E5Encoder()
    ours: list[float] = []
    baseline: list[float] = []
    for row in rows:
        text = normalise_for_embedding(row["text"]) or "."
        for encoder, times in ((model.encoder, ours), (full, baseline)):
            start = time.process_time_ns()
            encoder.encode([text])
            times.append((time.process_time_ns() - start) / 1e6)
    return ours, baseline


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


def main(argv: Sequence[str] = ()) -> None:
    before_model = rss_mb()
    load_started = time.perf_counter()
    model = load_safety_model()
    model_load_s = time.perf_counter() - load_started
    model.score("hello, can we play a game")
    model_memory_mb = rss_mb() - before_model
    detector = Router(drill_engine=DrillEngine(random.Random(0)), safety_model=model)
    rules_router = Router(drill_engine=DrillEngine(random.Random(0)))

    sets: dict[str, dict[str, Any]] = {}
    for path in blind_sets(argv):
        blind = load_file(path)
        sets[path.stem] = {
            # Changed for after its first run: no longer blind (see TUNED_BLIND_SETS).
            "tuned": path.stem in TUNED_BLIND_SETS,
            "detector": set_report(detector, blind),
            "rules": set_report(rules_router, blind),
        }
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

    def detector_classify(text: str, history: Sequence[HistoryTurn]) -> tuple[str, bool]:
        decision = detector.decide(text, history)
        return decision.activity.value, decision.safety is not None

    report["detector"] = {}
    for split in (*SPLITS, "all"):
        subset = [r for r in rows if split == "all" or r["split"] == split]
        report["detector"][split] = evaluate(detector_classify, subset)
    report["detector"]["stt_style_all"] = evaluate(detector_classify, rows, stt_style)
    for split in SPLITS:
        subset = [r for r in rows if r["split"] == split]
        sets[f"{split} (tuned)"] = {"tuned": True, "detector": set_report(detector, subset)}
        sets[f"{split} (tuned)"]["detector"].pop("misses")
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
    load_before_latency = os.getloadavg()[0]
    detector_times, detector_cpu = detector_latency(detector, model, rows)
    rules_times, _ = detector_latency(rules_router, None, rows)
    latency["detector_20_turn_history_p50_ms"] = round(statistics.median(detector_times), 3)
    latency["detector_20_turn_history_p99_ms"] = round(percentile(detector_times, 0.99), 3)
    latency["detector_20_turn_history_max_ms"] = round(max(detector_times), 3)
    latency["detector_20_turn_history_cpu_p50_ms"] = round(statistics.median(detector_cpu), 3)
    latency["detector_20_turn_history_cpu_p99_ms"] = round(percentile(detector_cpu, 0.99), 3)
    latency["rules_only_20_turn_history_p99_ms"] = round(percentile(rules_times, 0.99), 3)
    latency["load_average_during_detector_latency"] = round(load_before_latency, 2)
    ours, full_depth = encoder_depth_cpu_ms(model, rows)
    latency["encoder_layers"] = getattr(model.encoder, "layers", None)
    latency["encoder_cpu_p50_ms"] = round(statistics.median(ours), 3)
    latency["encoder_cpu_p99_ms"] = round(percentile(ours, 0.99), 3)
    latency["encoder_12_layers_cpu_p50_ms"] = round(statistics.median(full_depth), 3)
    latency["encoder_12_layers_cpu_p99_ms"] = round(percentile(full_depth, 0.99), 3)
    latency["encoder_cpu_ratio_to_12_layers"] = round(sum(ours) / sum(full_depth), 3)
    report["latency"] = latency

    print(
        f"{'set':<16}{'system':<10}{'n':>5}{'accuracy':>10}{'recall':>8}{'false al.':>10}{'scary FA':>10}"
    )
    for split in (*SPLITS, "all", "stt_style_all"):
        for system in ("detector", "rules", "baseline"):
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
    for name, figures in sets.items():
        tag = (
            "TUNED"
            if figures["tuned"]
            else "HELD-OUT SPLIT"
            if name.startswith("safety_holdout_")
            else "BLIND"
        )
        d = figures["detector"]
        print(
            f"{name} [{tag}] detector: distress recall {d['distress_recall']} "
            f"{d['recall_per_category']}, harmful {d['harmful_request_recall']}, false alarms "
            f"{d['false_alarms']} (scary {d['scary_false_alarms']}), activity "
            f"{d['activity_accuracy']}, safety to Claude {d['safety_to_claude']}"
        )
        if "rules" in figures:
            r = figures["rules"]
            print(
                f"{name} [{tag}] rules alone: distress recall {r['distress_recall']}, false alarms "
                f"{r['false_alarms']}, activity {r['activity_accuracy']}"
            )
    print(
        f"detector with 20 turns of history: p50 {latency['detector_20_turn_history_p50_ms']} ms, "
        f"p99 {latency['detector_20_turn_history_p99_ms']} ms wall, CPU p50 "
        f"{latency['detector_20_turn_history_cpu_p50_ms']} ms p99 "
        f"{latency['detector_20_turn_history_cpu_p99_ms']} ms (load "
        f"{latency['load_average_during_detector_latency']}; rules alone p99 "
        f"{latency['rules_only_20_turn_history_p99_ms']} ms); model load {model_load_s:.2f} s, "
        f"memory added {model_memory_mb:.0f} MB"
    )
    print(
        f"encoder ({latency['encoder_layers']} layers) CPU p50 {latency['encoder_cpu_p50_ms']} ms "
        f"p99 {latency['encoder_cpu_p99_ms']} ms; all 12 layers in the same run p50 "
        f"{latency['encoder_12_layers_cpu_p50_ms']} ms p99 "
        f"{latency['encoder_12_layers_cpu_p99_ms']} ms (ratio "
        f"{latency['encoder_cpu_ratio_to_12_layers']})"
    )
    for name, figures in BLIND_FIRST_RUNS.items():
        print(f"{name} first run (blind, before any change for it): {figures}")
    summary = {
        "sets": sets,
        "blind_first_runs": BLIND_FIRST_RUNS,
        "detector_accuracy_all_tuned": report["detector"]["all"]["accuracy"],
        "detector_safety_recall_all_tuned": report["detector"]["all"]["safety_recall"],
        "detector_false_alarm_rate_all_tuned": report["detector"]["all"]["false_alarm_rate"],
        "detector_scary_false_alarm_rate_all_tuned": report["detector"]["all"][
            "scary_false_alarm_rate"
        ],
        "model_load_s": round(model_load_s, 3),
        "model_memory_added_mb": round(model_memory_mb, 1),
        "safety_head_members": model.head.members,
        "safety_head_weights_kb": round(model.head.nbytes / 1024),
        "activity_head_weights_kb": (
            round(model.activity_head.nbytes / 1024) if model.activity_head is not None else None
        ),
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
    main(sys.argv[1:])
