"""Relabel jokes and pretend games from creative to chitchat in the activity training and eval data.

The project's activity definitions (given to every data writer) put jokes, greetings and games
of pretend talk under chitchat, and making up a story, poem, song, rap or riddle under creative.
Writers 1-4, router_eval and safety_eval had called a joke to hear or a pretend game creative.
The rule, the router's own: a line labelled creative whose turn names a joke, knock-knock,
tongue twister or pretend/talking game (router._PLAY) and nothing made up (router._CREATIVE:
story, poem, song, riddle, rap, imagine, make up, "make a joke") becomes chitchat. Blind sets
and the writers' held-out splits are never touched. Prints the count per file; idempotent.
Run: .venv/bin/python training/safety/relabel_play_as_chitchat.py
"""

from __future__ import annotations

import json
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from custom_components.blip.brain.router import _ABOUT_A_JOKE, _CREATIVE, _PLAY  # noqa: E402
from custom_components.blip.brain.spoken import normalise_utterance  # noqa: E402

FILES = (
    *sorted((ROOT / "training/safety/corpus").glob("handwritten_writer*.jsonl")),
    ROOT / "tests/data/router_eval.jsonl",
    ROOT / "tests/data/safety_eval.jsonl",
)


def is_play(text: str) -> bool:
    """A joke to hear or a pretend game, with nothing to make up in it."""
    said = _ABOUT_A_JOKE.sub(" ", normalise_utterance(text))
    return bool(_PLAY.search(said)) and not _CREATIVE.search(said)


def main() -> None:
    total = 0
    for path in FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        changed = 0
        out = []
        for line in lines:
            row = json.loads(line)
            if row.get("activity") == "creative" and is_play(str(row["text"])):
                row["activity"] = "chitchat"
                changed += 1
                print(f"  {path.name}: {row['text']}")
                out.append(json.dumps(row, ensure_ascii=False))
            else:
                out.append(line)
        if changed:
            path.write_text("\n".join(out) + "\n", encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {changed} relabelled creative -> chitchat")
        total += changed
    print(f"total: {total}")


if __name__ == "__main__":
    main()
