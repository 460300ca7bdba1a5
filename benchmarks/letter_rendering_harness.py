"""Fast harness for letter renderings: the failing words and controls, several passes each.

Each answer's sentences go through the TTS server's own PiperSynthesizer (the rendering under
test patched into ``engine.letter_run_phonemes``), then the server's tiny.en decode with its
prompt; counted as benchmarks/spelled_letters.py counts. Prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.spelled_letters import Transcriber, letters_heard  # noqa: E402
from custom_components.blip.brain import DrillEngine  # noqa: E402
from custom_components.blip.voice.audio import PcmFormat, convert_all  # noqa: E402
from custom_components.blip.voice.speakable import split_sentences  # noqa: E402
from tests.wyoming_fixtures import default_voice  # noqa: E402
from wyoming_servers.tts import engine as tts  # noqa: E402

HARD = [
    "yellow",
    "kite",
    "question",
    "apple",
    "teeth",
    "picnic",
    "astronaut",
    "nature",
    "kitchen",
    "action",
    "school",
    "knock",
    "station",
    "garden",
    "book",
    "giraffe",
]
CONTROLS = ["dinosaur", "people", "favorite", "different", "tomorrow", "little", "balloon", "ocean"]
E = tts.LETTER_PHONEMES


def base(items: list[str], table: dict[str, str] = E, gap=" ", dgap="  ", pre=None) -> str:
    out = []
    for i, item in enumerate(items):
        if i:
            g = dgap if item == items[i - 1] else gap
            if pre is not None:
                g = pre(items[i - 1], item, g)
            out.append(g)
        out.append(table[item])
    return f"[[ {''.join(out)} ]]"


VOWEL_ONSET = set("AEFHILMNORSX")


def v_gap_vowel(items):  # a longer gap before a letter that starts with a vowel sound
    return base(items, pre=lambda a, b, g: "  " if b in VOWEL_ONSET else g)


def v_gap_all(items):
    return base(items, gap="  ", dgap="   ")


def v_n_long(items):
    return base(items, {**E, "N": "ˈɛnn"})


def v_combo(items):
    return base(
        items,
        {**E, "N": "ˈɛnn"},
        pre=lambda a, b, g: "   "
        if a == b
        else ("  " if b in VOWEL_ONSET or (a, b) == ("Q", "U") else g),
    )


def v_gap3(items):
    return base(items, gap="   ", dgap="    ")


def v_gap_all_dd(items):  # two spaces, doubled letters two as well
    return base(items, gap="  ", dgap="  ")


def v_n_len(items):  # a long n
    return base(items, {**E, "N": "ˈɛnː"})


def v_n_gap_after(items):  # a longer gap after N ("and" is N run into the next letter)
    return base(items, pre=lambda a, b, g: "  " if a == "N" else g)


def v_n_vowel(items):  # a longer e in N
    return base(items, {**E, "N": "ˈɛːn"})


# Letters whose names start with a consonant (U's "j" is left out: after a long gap it was heard
# as Q, "P Q R P L E"). A wide gap only before these: the full pass with every gap wide (gap_all)
# lost vowel letters after the gap to an onset (E heard "eat", D, G; "S-I-D-X").
CONSONANT_ONSET = set("BCDGJKPQTVWYZ")


def v_cons_wide(items):
    return base(items, pre=lambda a, b, g: "  " if b in CONSONANT_ONSET else g)


def v_cons_wide_ll(items):  # and a doubled letter ending in a consonant (LL, FF, SS) wider yet
    def gap(a: str, b: str, g: str) -> str:
        if a == b:
            return "   " if E[a][-1] not in "ːɪʊə" else "  "
        if E[a].endswith(E[b]):  # the same name sound twice: Q U, K A, Y I
            return "  "
        return "  " if b in CONSONANT_ONSET else g

    return base(items, pre=gap)


N_WORDS = [
    "nest",
    "knock",
    "picnic",
    "astronaut",
    "nature",
    "enough",
    "tent",
    "kitchen",
    "station",
    "penguin",
    "answer",
    "snack",
    "planet",
    "dinosaur",
    "friend",
    "chin",
]

VARIANTS = {
    "cons_wide": v_cons_wide,
    "cons_wide_ll": v_cons_wide_ll,
    "n_len": v_n_len,
    "n_gap_after": v_n_gap_after,
    "n_vowel": v_n_vowel,
    "gap3": v_gap3,
    "gap_all_dd": v_gap_all_dd,
    "current": tts.letter_run_phonemes,  # the server's (letter-names-4 since round 5)
    "round4": base,  # 1 space, 2 for a doubled letter
    "gap_vowel": v_gap_vowel,
    "gap_all": v_gap_all,
    "n_long": v_n_long,
    "combo": v_combo,
}
FMT16 = PcmFormat(rate=16000, width=2, channels=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--words", nargs="*")
    args = parser.parse_args()
    words = args.words or HARD + CONTROLS
    if args.words == ["N"]:
        words = N_WORDS
    engine = DrillEngine()
    answers = {w: engine.respond(f"how do you spell {w}", None).text for w in words}
    voice = default_voice()
    synth = tts.PiperSynthesizer(voice, tts.SynthesisSettings())
    fmt = PcmFormat(rate=voice.sample_rate, width=2, channels=1)
    ear = Transcriber("server")
    results = {}
    for name in args.variants:
        tts.letter_run_phonemes = VARIANTS[name]
        scores, missed = [], {}
        for _ in range(args.passes):
            ok = 0
            for word, text in answers.items():
                pcm = b"".join(synth.synthesize(s, None).pcm for s in split_sentences(text))
                heard = ear(convert_all(pcm, fmt, FMT16))
                if letters_heard(heard, word):
                    ok += 1
                else:
                    missed.setdefault(word, []).append(heard.split(".")[0][:60])
            scores.append(ok)
        results[name] = {"scores": scores, "of": len(words), "missed": missed}
        print(name, scores, {k: len(v) for k, v in missed.items()}, file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
