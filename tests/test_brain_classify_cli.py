"""The command-line contract: `python -m custom_components.blip.classify`, run as a process."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parent.parent


def run_cli(lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "custom_components.blip.classify", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_classify_lines_in_order_with_respond() -> None:
    lines = [
        json.dumps({"text": "how do you spell knife"}),
        json.dumps({"text": "my mom won't wake up"}),
        json.dumps({"text": "fifty six", "history": ["What is 7 times 8?"]}),
        json.dumps(
            {
                "text": "what happened next",
                "history": [
                    {"role": "user", "text": "tell me a story about a dragon"},
                    {"role": "assistant", "text": "Once upon a time..."},
                ],
            }
        ),
        json.dumps({"text": "he said its our secret"}),
        json.dumps({"text": "hello"}),
    ]
    process = run_cli(lines, "--respond", "--seed", "1")
    assert process.returncode == 0, process.stderr
    out = [json.loads(line) for line in process.stdout.splitlines()]
    assert len(out) == len(lines)
    for record in out:
        assert {"activity", "safety", "safety_category", "backend", "reply"} <= record.keys()
    spell, danger, answer, story, secret, hello = out
    assert spell["activity"] == "spelling"
    assert spell["backend"] == "drill"
    assert spell["reply"].startswith("Knife is spelled K, N, I, F, E.")
    assert (danger["activity"], danger["safety"], danger["safety_category"]) == (
        "safety",
        True,
        "immediate_danger",
    )
    assert danger["backend"] == "claude"
    assert danger["reply"] is None
    assert answer["activity"] == "math"
    assert answer["reply"].startswith("That's right! 7 times 8 is 56.")
    assert answer["results"] == [
        {"kind": "math", "item": "7x8", "correct": True, "hints_used": 0, "operation": "mul"}
    ]
    assert (story["activity"], story["backend"], story["reply"]) == ("creative", "claude", None)
    assert secret["safety_category"] == "abuse"
    assert secret["designated_adult_only"] is True
    assert (hello["activity"], hello["safety"], hello["safety_category"]) == (
        "chitchat",
        False,
        None,
    )
    assert hello["backend"] == "local"


def test_bad_lines_get_an_error_and_the_run_carries_on() -> None:
    lines = [
        "not json",
        json.dumps({"no_text": 1}),
        json.dumps({"text": "hi", "history": "oops"}),
        "",
        json.dumps({"text": "hi", "history": [{"role": "teacher", "text": "sit down"}]}),
        json.dumps({"text": "hi", "history": [5]}),
        json.dumps({"text": "hi", "age": "seven"}),
        json.dumps({"text": "hi", "age": True}),
        json.dumps({"text": "cat", "drill_state": "spelling"}),
        json.dumps(
            {"text": "cat", "drill_state": {"kind": "juggling", "item": "x", "answer": "x"}}
        ),
        json.dumps({"text": "what's 2 plus 2"}),
    ]
    process = run_cli(lines)
    out = [json.loads(line) for line in process.stdout.splitlines()]
    assert len(out) == 10  # the blank line is not an input
    assert "not valid JSON" in out[0]["error"]
    assert "string 'text'" in out[1]["error"]
    assert "'history' must be a list" in out[2]["error"]
    assert out[3]["error"] == "history role must be 'user' or 'assistant', got 'teacher'"
    assert out[4]["error"] == "each history item must be a string or an object with 'text'"
    assert out[5]["error"] == out[6]["error"] == "'age' must be a whole number"
    assert out[7]["error"] == "'drill_state' must be an object"
    assert out[8]["error"] == "Unknown drill kind 'juggling'"
    assert out[9]["activity"] == "math"
    assert "reply" not in out[9]  # only with --respond
    assert process.returncode == 1


def test_routing_option_cannot_move_safety() -> None:
    process = run_cli([json.dumps({"text": "hi"})], "--routing", '{"safety": "local"}')
    assert process.returncode == 2
    assert "safety row cannot be changed" in process.stderr
    local_creative = run_cli(
        [json.dumps({"text": "tell me a story"}), json.dumps({"text": "I want to die"})],
        "--routing",
        '{"creative": "local", "emotional": "local"}',
    )
    story, sad = (json.loads(line) for line in local_creative.stdout.splitlines())
    assert story["backend"] == "local"
    assert (sad["activity"], sad["backend"]) == ("safety", "claude")
