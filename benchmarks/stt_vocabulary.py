"""Which vocabulary priming makes Whisper tiny.en hear children's requests to Blip best?

Thirty requests a child might make (spelling K-4 words, sums in words, "Hey Blip ...", stories,
why-questions) are spoken by the project's piper voice at its normal pace, each after three
different lengths of quiet room noise: where the audio starts moves Whisper's 20 ms frames over
the words, and tiny.en's mistakes depend on it. Every clip goes through the server's own endpoint
detection (Silero VAD, default settings) to find the decode input the server would use, then
through the server's own `WhisperEngine.decode_blocking` (int8, beam 1, 2 threads, greedy, no
temperature fallback: the server's defaults) under each candidate vocabulary setting. Settings are
interleaved per clip, in rotating order, so background load hits all alike.

Reported per setting: word error rate, exact-match rate (after normalising case, punctuation,
digits and a few contractions), the same on the requests that share no content word with the
prompt ("held out"), median decode time, and "phantoms": words made up from pure room noise,
which a prompt can provoke (Whisper likes to repeat its prompt when there is nothing to hear).

    .venv/bin/python benchmarks/stt_vocabulary.py [--offsets 0.1 0.33 0.57]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import statistics
import sys
import time

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.stt_clips import piper_speech, room_noise, server_decode_input  # noqa: E402
from wyoming_servers.stt.endpointing import SAMPLE_RATE  # noqa: E402
from wyoming_servers.stt.engine import (  # noqa: E402
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT  # noqa: E402

HOTWORDS = "Blip"
TRAILING_SILENCE_S = 0.7  # Home Assistant's default end-of-speech window
NOISE_CLIPS = 8

REQUESTS: list[tuple[str, str]] = [
    ("spelling", "How do you spell dinosaur?"),
    ("spelling", "How do you spell elephant?"),
    ("spelling", "How do you spell because?"),
    ("spelling", "Can you spell friend for me?"),
    ("spelling", "How do you spell beautiful?"),
    ("spelling", "How do you spell Wednesday?"),
    ("spelling", "How do you spell people?"),
    ("spelling", "How do you spell giraffe?"),
    ("math", "What is seven times eight?"),
    ("math", "What is twelve plus nine?"),
    ("math", "What is fifteen minus six?"),
    ("math", "What is one hundred divided by four?"),
    ("math", "Quiz me on my six times tables."),
    ("hey_blip", "Hey Blip, what is your name?"),
    ("hey_blip", "Blip, can you help me with my homework?"),
    ("hey_blip", "Hey Blip, how do you spell octopus?"),
    ("hey_blip", "Hey Blip, how do you spell dinosaur?"),
    ("hey_blip", "Blip, tell me a joke."),
    ("hey_blip", "Hey Blip, what is nine times nine?"),
    ("story", "Tell me a story about a dragon."),
    ("story", "Tell me a story about a princess and a unicorn."),
    ("story", "Can you tell me a story about space?"),
    ("story", "Tell me a bedtime story about a sleepy bear."),
    ("why", "Why is the sky blue?"),
    ("why", "Why do cats purr?"),
    ("why", "How many legs does a spider have?"),
    ("why", "Why do leaves change color in the fall?"),
    ("why", "What do caterpillars turn into?"),
    ("why", "How far away is the moon?"),
    ("why", "What is the biggest planet?"),
]


# --------------------------------------------------------------------------- scoring

# fmt: off
_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# fmt: on
_CONTRACTIONS = {"what's": "what is", "it's": "it is", "that's": "that is", "ok": "okay"}
_SYMBOLS = {"+": " plus ", "×": " times ", "÷": " divided by ", "=": " equals "}
_SMALL_WORDS = {"a", "an", "and", "the", "is", "me", "my", "do", "you", "how", "what", "can"}


def number_words(number: int) -> str:
    """0-999 as spoken words ("one hundred four"), which is how the references are written."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(number, 100)
    return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")


def normalized_words(text: str) -> list[str]:
    """Lower-case words; digits, symbols and a few contractions written out.

    Whisper writes "7 times 8?" or "What's 7 x 8?" for the same audio; those are not mistakes a
    child would notice, so they do not count as errors.
    """
    text = text.lower()
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = re.sub(r"(?<=\d)\s*x\s*(?=\d)", " times ", text)
    text = re.sub(
        r"\d+", lambda m: number_words(int(m.group())) if len(m.group()) < 4 else "", text
    )
    words = re.findall(r"[a-z']+", text.replace("-", " "))
    return " ".join(_CONTRACTIONS.get(word, word) for word in words).split()


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance in words (substitutions + deletions + insertions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
            )
        previous = current
    return previous[-1]


# --------------------------------------------------------------------------- audio


def synthesize(texts: list[str]) -> list[np.ndarray]:
    """The project's default piper voice at its normal pace, repeatable (no generator noise)."""
    return [piper_speech(text) for text in texts]


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    options: DecodeOptions


@dataclass(slots=True)
class Tally:
    errors: int = 0
    reference_words: int = 0
    exact: int = 0
    clips: int = 0
    held_out_exact: int = 0
    held_out_clips: int = 0
    phantom_words: int = 0
    phantom_clips: int = 0
    seconds: list[float] | None = None


def content_words(text: str) -> set[str]:
    return {word for word in normalized_words(text) if word not in _SMALL_WORDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--offsets",
        type=float,
        nargs="+",
        default=[0.1, 0.33, 0.57],
        help="Seconds of room noise before each request",
    )
    parser.add_argument(
        "--prompt", default=DEFAULT_INITIAL_PROMPT, help="Initial prompt (default: the server's)"
    )
    parser.add_argument("--hotwords", default=HOTWORDS, help="Hotwords to try")
    parser.add_argument("--verbose", action="store_true", help="Print every wrong transcript")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    prompt, hotwords = args.prompt, args.hotwords
    candidates = [
        Candidate("none", DecodeOptions(language="en")),
        Candidate("hotwords", DecodeOptions(language="en", hotwords=hotwords)),
        Candidate("prompt", DecodeOptions(language="en", initial_prompt=prompt)),
        Candidate(
            "both",
            DecodeOptions(language="en", initial_prompt=prompt, hotwords=hotwords),
        ),
    ]
    prompt_words = content_words(prompt) | content_words(hotwords)

    texts = [text for _, text in REQUESTS]
    speech = synthesize(texts)
    clips: list[tuple[int, np.ndarray]] = []
    for index, samples in enumerate(speech):
        for offset_index, offset in enumerate(args.offsets):
            seed = index * 10 + offset_index
            audio = np.concatenate(
                [room_noise(offset, seed), samples, room_noise(TRAILING_SILENCE_S, seed + 5000)]
            )
            clips.append((index, server_decode_input(audio)))
    # Room noise of different lengths, and digital silence: nothing to hear, nothing to write.
    noise_clips = [room_noise(0.6 + 0.25 * seed, 90_000 + seed) for seed in range(NOISE_CLIPS)]
    noise_clips.append(np.zeros(SAMPLE_RATE, dtype=np.int16))

    engine = WhisperEngine(EngineSettings(default_model_path(), cpu_threads=2))
    engine.warm_up()
    tallies = {candidate.name: Tally(seconds=[]) for candidate in candidates}
    per_category: dict[str, dict[str, list[int]]] = {c.name: {} for c in candidates}
    started = time.perf_counter()
    for clip_number, (index, samples) in enumerate(clips):
        category, text = REQUESTS[index]
        reference = normalized_words(text)
        held_out = not (content_words(text) & prompt_words)
        shift = clip_number % len(candidates)
        for candidate in candidates[shift:] + candidates[:shift]:
            result = engine.decode_blocking(samples, candidate.options)
            hypothesis = normalized_words(result.text)
            errors = word_errors(reference, hypothesis)
            tally = tallies[candidate.name]
            assert tally.seconds is not None
            tally.seconds.append(result.seconds)
            tally.errors += errors
            tally.reference_words += len(reference)
            tally.clips += 1
            tally.exact += errors == 0
            if held_out:
                tally.held_out_clips += 1
                tally.held_out_exact += errors == 0
            category_counts = per_category[candidate.name].setdefault(category, [0, 0])
            category_counts[0] += errors == 0
            category_counts[1] += 1
            if errors and args.verbose:
                print(f"{candidate.name:>9} {text!r:50} → {result.text.strip()!r}", file=sys.stderr)
    for samples in noise_clips:
        for candidate in candidates:
            result = engine.decode_blocking(samples, candidate.options)
            invented = len(normalized_words(result.text))
            tallies[candidate.name].phantom_words += invented
            tallies[candidate.name].phantom_clips += invented > 0
    engine.close()

    baseline_ms = statistics.median(tallies["none"].seconds or [0.0]) * 1000
    results: dict[str, dict[str, object]] = {}
    print(
        f"{'setting':>9} {'WER %':>6} {'exact':>7} {'held-out':>9} {'decode ms':>10} {'phantom':>8}",
        file=sys.stderr,
    )
    for candidate in candidates:
        tally = tallies[candidate.name]
        assert tally.seconds is not None
        median_ms = statistics.median(tally.seconds) * 1000
        results[candidate.name] = {
            "wer_percent": round(100 * tally.errors / tally.reference_words, 1),
            "exact_match_percent": round(100 * tally.exact / tally.clips, 1),
            "exact": f"{tally.exact}/{tally.clips}",
            "held_out_exact": f"{tally.held_out_exact}/{tally.held_out_clips}",
            "decode_ms_median": round(median_ms, 1),
            "decode_ms_vs_none": round(median_ms - baseline_ms, 1),
            "phantom_words_from_noise": tally.phantom_words,
            "phantom_clips": f"{tally.phantom_clips}/{len(noise_clips)}",
            "exact_by_category": {
                category: f"{exact}/{total}"
                for category, (exact, total) in per_category[candidate.name].items()
            },
        }
        print(
            f"{candidate.name:>9} {results[candidate.name]['wer_percent']:>6} "
            f"{tally.exact:>3}/{tally.clips:<3} {tally.held_out_exact:>4}/{tally.held_out_clips:<4} "
            f"{median_ms:>10.1f} {tally.phantom_words:>8}",
            file=sys.stderr,
        )

    summary = {
        "benchmark": "stt_vocabulary",
        "what": "tiny.en int8 beam 1, 2 threads; piper normal pace; server VAD endpoint; "
        f"{len(REQUESTS)} requests x {len(args.offsets)} lead-in offsets",
        "initial_prompt": prompt,
        "hotwords": hotwords,
        "offsets_s": args.offsets,
        # What `python -m wyoming_servers.stt` uses unless told otherwise.
        "server_default": "prompt" if prompt == DEFAULT_INITIAL_PROMPT else "none",
        "results": results,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
