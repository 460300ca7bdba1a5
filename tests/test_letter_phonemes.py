"""Spelled letters as the TTS server gives them to piper: letter names in one phoneme block,
a longer gap for a doubled letter, a long "v" for V; real piper, and real tiny.en hearing them.

The rates are measured by benchmarks/spelled_letters.py; these are fixed examples of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tqdm

from benchmarks.spelled_letters import letters_heard
from custom_components.blip.voice.audio import PcmFormat, convert_all
from tests.wyoming_fixtures import default_voice
from wyoming_servers.stt.engine import (
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT
from wyoming_servers.tts.engine import (
    LETTER_PHONEMES,
    PiperSynthesizer,
    SynthesisSettings,
    piper_input,
)
from wyoming_servers.tts.voices import LoadedVoice

OPTIONS = DecodeOptions(language="en", initial_prompt=DEFAULT_INITIAL_PROMPT)


@pytest.fixture(scope="module")
def voice() -> LoadedVoice:
    return default_voice()


@pytest.fixture(scope="module")
def ear() -> Iterator[WhisperEngine]:
    # faster-whisper's progress bar would start tqdm's monitor thread in the test's thread.
    saved, tqdm.tqdm.monitor_interval = tqdm.tqdm.monitor_interval, 0
    whisper = WhisperEngine(EngineSettings(default_model_path()))
    yield whisper
    whisper.close()
    tqdm.tqdm.monitor_interval = saved


def _phonemes(voice: LoadedVoice, text: str) -> str:
    return "|".join("".join(sentence) for sentence in voice.piper.phonemize(text))


def test_a_spelled_run_reaches_the_model_as_letter_names_with_a_gap_for_a_doubled_letter(
    voice: LoadedVoice,
) -> None:
    """What piper's own phonemizer makes of the rendering (it dropped the commas between the
    old one-block-per-letter rendering without a word)."""
    spoken = piper_input("Balloon is spelled B, A, L, L, O, O, N.", voice.languages)
    assert _phonemes(voice, spoken).endswith(":  bˈiː ˈeɪ ˈɛl   ˈɛl ˈoʊ  ˈoʊ ˈɛn")
    assert "vvˈiː ˈoʊ ˈɛl" in _phonemes(voice, piper_input("V, O, L", voice.languages))
    assert "ɐpˈɔstɹəfi  tˈiː" in _phonemes(voice, piper_input("N, apostrophe, T", voice.languages))
    # Round 5: a longer gap before a letter whose name starts with a consonant, none before a
    # vowel sound; Q, U apart as a doubled letter is.
    # Round 6: before I as well (its "aɪ" ran into the letter before: "k it", "PIC").
    assert _phonemes(voice, piper_input("K, I, T, E", voice.languages)).endswith(
        "kˈeɪ  ˈaɪ  tˈiː ˈiːː"
    )
    assert "ˈɛs ˈɛm  ˈaɪ ˈɛl ˈiːː" in _phonemes(
        voice, piper_input("S, M, I, L, E", voice.languages)
    )
    # A doubled I keeps a doubled vowel's gap (two spaces, not three).
    assert _phonemes(voice, piper_input("W, A, I, I", voice.languages)).endswith("ˈeɪ  ˈaɪ  ˈaɪ")
    assert "kjˈuː  jˈuː ˈiːː" in _phonemes(voice, piper_input("Q, U, E, S", voice.languages))
    # Every letter has its name; text that is not spelled letters is left to piper.
    assert set(LETTER_PHONEMES) >= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert piper_input("Plan B. I think so.", voice.languages) == "Plan B. I think so."
    assert piper_input("D, O, G", ["de_DE"]) == "D, O, G"


@pytest.mark.parametrize("word", ["balloon", "volcano", "summer", "kitchen"])
def test_a_doubled_letter_and_a_v_are_heard_back(
    voice: LoadedVoice, ear: WhisperEngine, word: str
) -> None:
    """Real piper (its sampling noise off, so the take is the same every run) and the STT
    server's tiny.en decode: the letters come back in order. Before round 4, "balloon" came back
    B-A-L-O-O-N and "volcano" B-O-L-C-A-N-O; before round 6 (one space before I) this take of
    "kitchen" came back "k itc h e n"."""
    settings = SynthesisSettings(letter_noise_scale=0.0, letter_noise_w_scale=0.0)
    synthesizer = PiperSynthesizer(voice, settings)
    letters = ", ".join(word.upper())
    audio = synthesizer.synthesize(f"{word.capitalize()} is spelled {letters}.", None)
    pcm = convert_all(
        audio.pcm,
        PcmFormat(rate=audio.rate, width=audio.width, channels=audio.channels),
        PcmFormat(rate=16000, width=2, channels=1),
    )
    heard = ear.decode_blocking(np.frombuffer(pcm, dtype="<i2"), OPTIONS).text
    assert letters_heard(heard, word), heard


def test_a_sentence_with_spelled_letters_has_its_own_sampling_noise() -> None:
    settings = SynthesisSettings(noise_scale=0.5, letter_noise_scale=0.1, letter_noise_w_scale=None)
    assert settings.piper_config(None, letters=False).noise_scale == 0.5
    letters = settings.piper_config(3, letters=True)
    assert (letters.noise_scale, letters.noise_w_scale, letters.speaker_id) == (0.1, None, 3)
    # None: as the voice's own (or the server's) setting.
    assert (
        SynthesisSettings(letter_noise_scale=None).piper_config(None, letters=True).noise_scale
        is None
    )
