"""Pure pieces of the TTS server: sentence splitting, speakable text, the phrase list, the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.blip.phrases import ALL_PHRASES
from custom_components.blip.voice.speakable import SentenceSplitter, speakable_text, split_sentences
from wyoming_servers.audio import PcmAudio
from wyoming_servers.tts.__main__ import default_phrases_path, load_phrase_sentences
from wyoming_servers.tts.cache import SentenceAudioCache, cache_key, profile_id
from wyoming_servers.tts.voices import VoiceFiles, VoiceNotFoundError, find_voice, voice_fingerprint


def _audio(size: int) -> PcmAudio:
    return PcmAudio(pcm=bytes(size), rate=22050, width=2, channels=1)


# -- sentence splitting ------------------------------------------------------------------------


def test_sentence_released_as_soon_as_whitespace_follows_end_punctuation() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("The sky is blue") == []
    assert splitter.feed(".") == []  # could still be "blue.com" or an ellipsis
    # Whitespace is enough: no need to wait for the next sentence's capital letter.
    assert splitter.feed(" ") == ["The sky is blue."]
    assert splitter.feed("that is why") == []
    assert splitter.flush() == ["that is why"]
    assert splitter.pending_text == ""


def test_streamed_pieces_split_like_the_whole_text() -> None:
    text = 'Wow! Did you know? Octopuses have three hearts... "Amazing!" she said. Mr. Smith agreed. Done'
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    splitter = SentenceSplitter()
    streamed = [
        sentence for piece in pieces for sentence in splitter.feed(piece)
    ] + splitter.flush()
    assert streamed == split_sentences(text)
    assert streamed == [
        "Wow!",
        "Did you know?",
        "Octopuses have three hearts...",
        # Like piper's own splitter: a closing quote after "!" ends the sentence.
        '"Amazing!"',
        "she said.",
        "Mr. Smith agreed.",
        "Done",
    ]


def test_abbreviations_list_numbers_decimals_and_line_breaks() -> None:
    assert split_sentences("Dr. Who is 3.5 years old. Steps:\n1. Mix\n2. Bake") == [
        "Dr. Who is 3.5 years old.",
        "Steps:",
        "1. Mix",
        "2. Bake",
    ]
    assert split_sentences("I am 7. You are 8.") == ["I am 7.", "You are 8."]


def test_run_on_text_is_cut_at_a_space_within_the_bound() -> None:
    splitter = SentenceSplitter(max_sentence_chars=40)
    sentences = splitter.feed(
        "and then the dragon flew over the hills and far away into the night "
    )
    assert sentences, "a run-on sentence must not hold back audio until the end of the stream"
    assert all(len(sentence) <= 40 for sentence in sentences)
    rebuilt = " ".join([*sentences, *splitter.flush()])
    assert rebuilt == "and then the dragon flew over the hills and far away into the night"


# -- speakable text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "is_ssml", "expected"),
    [
        ("Great  job!", False, "Great job!"),
        (
            "<speak>Great <emphasis>job</emphasis>!</speak>",
            True,
            "Great job!",
        ),  # no space before punctuation
        ("**Great** job! 🎉", False, "Great job!"),
        ("It’s “fun”", False, 'It\'s "fun"'),
        ("Say [[ h ə l oʊ ]] now", False, "Say h ə l oʊ now"),
        ("Tom &amp; Jerry &lt;b&gt;", False, "Tom & Jerry"),
        ("!!! ... ???", False, ""),
        ("\x00\x07   \u200b", False, ""),
    ],
)
def test_speakable_text(raw: str, is_ssml: bool, expected: str) -> None:
    assert speakable_text(raw, is_ssml=is_ssml) == expected


# -- the phrase list ---------------------------------------------------------------------------------


def test_phrase_list_covers_every_blip_phrase_sentence_by_sentence() -> None:
    listed = set(load_phrase_sentences([default_phrases_path()]))
    missing = [
        sentence
        for phrase in ALL_PHRASES
        for sentence in (speakable_text(s) for s in split_sentences(phrase))
        if sentence not in listed
    ]
    assert missing == []
    # The list holds whole sentences, one per line, as the splitter cuts them.
    assert all(split_sentences(sentence) == [sentence] for sentence in listed)
    assert "Let's try another one!" in listed and "Ready for the next word?" in listed


# -- cache ---------------------------------------------------------------------------------------


def test_recent_sentences_are_bounded_by_count_and_bytes() -> None:
    cache = SentenceAudioCache(disk_dir=None, max_recent_entries=3, max_recent_bytes=1000)
    for name in "abcd":
        cache.remember(name, _audio(100))
    assert cache.peek("a") is None and cache.peek("d") is not None
    assert cache.get("b") is not None  # b becomes most recent
    cache.remember("e", _audio(100))
    assert cache.peek("c") is None and cache.peek("b") is not None
    cache.remember("big", _audio(900))
    stats = cache.stats()
    assert stats.recent_bytes <= 1000 and stats.recent_entries <= 3
    assert cache.peek("big") is not None
    cache.pin("phrase", _audio(5000))  # phrases are never evicted and not bounded by the LRU
    cache.remember("f", _audio(100))
    assert cache.get("phrase") is not None and cache.get("nothing") is None
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (2, 1)
    assert (
        stats.phrase_bytes == 10000 // 2
        and stats.total_bytes == stats.phrase_bytes + stats.recent_bytes
    )


def test_disk_cache_survives_restart_and_is_invalidated_when_the_voice_changes(
    tmp_path: Path,
) -> None:
    model = tmp_path / "voices" / "kid_voice.onnx"
    model.parent.mkdir()
    model.write_bytes(b"model-v1")
    config = model.with_name("kid_voice.onnx.json")
    config.write_text('{"audio": {"sample_rate": 22050}}')
    files = find_voice("kid_voice", [model.parent])
    assert files == VoiceFiles("kid_voice", model, config)

    settings = {"length_scale": None}
    old_profile = profile_id(voice_fingerprint(files), settings)
    key = cache_key(old_profile, None, "Great job!")
    first_run = SentenceAudioCache(disk_dir=tmp_path / "cache")
    first_run.save_to_disk("kid_voice", old_profile, key, _audio(64))
    assert SentenceAudioCache(disk_dir=tmp_path / "cache").load_from_disk(
        "kid_voice", old_profile, key
    ) == _audio(64)

    # Other synthesis settings: another profile, another key.
    assert profile_id(voice_fingerprint(files), {"length_scale": 1.2}) != old_profile
    # A replaced model (new size) or a changed config changes the fingerprint.
    model.write_bytes(b"model-version-2")
    new_profile = profile_id(voice_fingerprint(files), settings)
    assert new_profile != old_profile
    config.write_text('{"audio": {"sample_rate": 16000}}')
    assert profile_id(voice_fingerprint(files), settings) not in (old_profile, new_profile)

    restarted = SentenceAudioCache(disk_dir=tmp_path / "cache")
    assert (
        restarted.load_from_disk(
            "kid_voice", new_profile, cache_key(new_profile, None, "Great job!")
        )
        is None
    )
    removed = restarted.prune_stale_profiles("kid_voice", new_profile)
    assert [path.name for path in removed] == [f"kid_voice-{old_profile}"]
    assert not (tmp_path / "cache" / f"kid_voice-{old_profile}").exists()


def test_unreadable_cache_file_is_ignored(tmp_path: Path) -> None:
    cache = SentenceAudioCache(disk_dir=tmp_path)
    folder = cache.profile_dir("v", "0123456789abcdef")
    assert folder is not None
    folder.mkdir(parents=True)
    (folder / "deadbeef.wav").write_bytes(b"RIFF not really")
    assert cache.load_from_disk("v", "0123456789abcdef", "deadbeef") is None


def test_missing_voice_names_every_place_looked(tmp_path: Path) -> None:
    with pytest.raises(VoiceNotFoundError) as caught:
        find_voice("en_GB-nobody-medium", [tmp_path])
    message = str(caught.value)
    assert "en_GB-nobody-medium" in message and str(tmp_path) in message and "--data-dir" in message
    (tmp_path / "lonely.onnx").write_bytes(b"x")
    with pytest.raises(VoiceNotFoundError, match="no config"):
        find_voice("lonely", [tmp_path])


# -- first clause early ------------------------------------------------------------------------


def test_a_long_opening_sentence_starts_with_its_first_clause() -> None:
    splitter = SentenceSplitter(first_clause_min_chars=24)
    assert splitter.feed("Once upon a time, in a land") == []  # "Once upon a time," is too short
    assert splitter.feed(" far away from here, there lived") == [
        "Once upon a time, in a land far away from here,"
    ]
    assert splitter.feed(" a dragon. Later, it was very sleepy, so it napped. ") == [
        "there lived a dragon.",
        # Only the opening is cut; later sentences stay whole for natural prosody.
        "Later, it was very sleepy, so it napped.",
    ]


def test_clause_cut_needs_a_long_enough_rest_and_respects_keep_whole() -> None:
    short_rest = SentenceSplitter(first_clause_min_chars=24)
    assert short_rest.feed("The quick brown fox jumps over, the lazy dog. ") == [
        "The quick brown fox jumps over, the lazy dog."
    ]
    phrase = "Do you want to practice spelling, do some math, or hear a story?"
    kept = SentenceSplitter(first_clause_min_chars=24, keep_whole=phrase.startswith)
    assert kept.feed("Do you want to practice spelling,") == []  # could still become the phrase
    assert kept.feed(" do some math, or hear a story? ") == [phrase]
    off = SentenceSplitter()
    assert off.feed("Once upon a time in a land far away, there lived a dragon. ") == [
        "Once upon a time in a land far away, there lived a dragon."
    ]
