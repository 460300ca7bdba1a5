"""Fast harness for letter renderings: the failing words and controls, several passes each.

Each answer's sentences go through the TTS server's own PiperSynthesizer (the rendering under
test patched into ``engine.letter_run_phonemes``), then the server's tiny.en decode with its
prompt; counted as benchmarks/spelled_letters.py counts. Prints one JSON object last.
"""

from __future__ import annotations

import argparse
import functools
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

# Round 6 (branch letters3): words in none of the three sets (not the 158, not the fresh 91),
# for what the fresh set showed (E-X run into "ex", N heard as "and", I after K), so the fresh
# set stays untouched: E-X, N next to a vowel letter, I after a letter, a final L-E, a V.
PROBE = [
    "extra",
    "exit",
    "next",
    "text",
    "kiss",
    "kick",
    "bite",
    "line",
    "note",
    "nine",
    "pony",
    "money",
    "banana",
    "lemon",
    "dinner",
    "candle",
    "uncle",
    "very",
    "seven",
    "river",
    "glove",
    "oven",
    "tiny",
    "animal",
]
# A letter whose name starts with a vowel sound (U's "j" counted as a consonant).
VOWEL_ONSET_NAMES = set("AEFHILMNORSX")


def current_with(table=None, before=None, final="") -> callable:
    """The server's rendering (its gaps), with other letter names, something put in front of
    a letter (``before(previous, item)``), or something after the last letter."""
    names = {**E, **(table or {})}

    def render(items):
        out = []
        for i, item in enumerate(items):
            if i:
                out.append(tts._letter_gap(items[i - 1], item))
                if before is not None:
                    out.append(before(items[i - 1], item))
            out.append(names[item])
        return f"[[ {''.join(out)}{final} ]]"

    return render


def _glottal_vowel(a, b):  # a glottal stop before a vowel-onset letter that follows a letter
    return "ʔ" if b in VOWEL_ONSET_NAMES else ""


def _glottal_linked(a, b):  # only where the two names would link: a vowel-onset letter after
    return "ʔ" if b in VOWEL_ONSET_NAMES and b != a else ""  # any letter but itself


def _pad_vowel(a, b):  # one more of piper's pad tokens (id 0): a very short silence
    return "_" if b in VOWEL_ONSET_NAMES else ""


def _pad2_vowel(a, b):
    return "__" if b in VOWEL_ONSET_NAMES else ""


def _glottal_after_n(a, b):  # only after N, M, L (the "and" and "el-ee" links)
    return "ʔ" if a in "NML" and b in VOWEL_ONSET_NAMES else ""


def current_gaps(gap) -> callable:
    """The server's rendering with ``gap(previous, item, server_gap)`` between two letters."""

    def render(items):
        out = []
        for i, item in enumerate(items):
            if i:
                out.append(gap(items[i - 1], item, tts._letter_gap(items[i - 1], item)))
            out.append(E[item])
        return f"[[ {''.join(out)} ]]"

    return render


VARIANTS = {
    # Another lead-in between "is spelled" and the run (the server's is ":"): N first was heard
    # run into the word before ("Net is spelled N" as "Metaspell and").
    "lead_dot": tts.letter_run_phonemes,
    "lead_comma": tts.letter_run_phonemes,
    "n_wide": current_gaps(lambda a, b, g: "  " if b == "N" else g),
    "i_wide": current_gaps(lambda a, b, g: "  " if b == "I" else g),
    "l_dark": current_with({"L": "ˈɛɫ"}),
    "glottal_vowel": current_with(before=_glottal_vowel),
    "glottal_after_nml": current_with(before=_glottal_after_n),
    "pad_vowel": current_with(before=_pad_vowel),
    "pad2_vowel": current_with(before=_pad2_vowel),
    "final_dot": current_with(final="."),
    "final_long": current_with(final="ː"),
    "v_vvv": current_with({"V": "vvvˈiː"}),
    "cons_wide": v_cons_wide,
    "cons_wide_ll": v_cons_wide_ll,
    "n_len": v_n_len,
    "n_gap_after": v_n_gap_after,
    "n_vowel": v_n_vowel,
    "gap3": v_gap3,
    "gap_all_dd": v_gap_all_dd,
    "current": tts.letter_run_phonemes,  # the server's (letter-names-5 since round 6)
    "round4": base,  # 1 space, 2 for a doubled letter
    "gap_vowel": v_gap_vowel,
    "gap_all": v_gap_all,
    "n_long": v_n_long,
    "combo": v_combo,
}
LEAD_INS = {"lead_dot": ".", "lead_comma": ","}
FMT16 = PcmFormat(rate=16000, width=2, channels=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--words", nargs="*")
    parser.add_argument(
        "--letter-noise",
        nargs=2,
        type=float,
        metavar=("SCALE", "W"),
        help="piper's noise for letter sentences (default: the server's)",
    )
    args = parser.parse_args()
    words = args.words or HARD + CONTROLS
    if args.words == ["N"]:
        words = N_WORDS
    if args.words == ["probe"]:
        words = PROBE
    engine = DrillEngine()
    answers = {w: engine.respond(f"how do you spell {w}", None).text for w in words}
    voice = default_voice()
    settings = tts.SynthesisSettings()
    if args.letter_noise:
        settings = tts.SynthesisSettings(
            letter_noise_scale=args.letter_noise[0], letter_noise_w_scale=args.letter_noise[1]
        )
    synth = tts.PiperSynthesizer(voice, settings)
    fmt = PcmFormat(rate=voice.sample_rate, width=2, channels=1)
    ear = Transcriber("server")
    results = {}
    render_runs = tts.render_letter_runs
    for name in args.variants:
        tts.letter_run_phonemes = VARIANTS[name]
        tts.render_letter_runs = functools.partial(render_runs, lead_in=LEAD_INS.get(name, ":"))
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
        for word, heard in missed.items():
            print(f"    {word}: {heard}", file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
