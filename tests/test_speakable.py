"""The one text → speakable sentences module, shared by the agent, Blip voice and the TTS server."""

from __future__ import annotations

from custom_components.blip.agent.speech import SentenceSplitter as AgentSplitter
from custom_components.blip.voice.speakable import (
    SentenceSplitter,
    letter_runs,
    phrase_sentences,
    protected_spans,
    render_letter_runs,
    speakable_text,
    split_sentences,
)


def _streamed(text: str, **options: object) -> list[str]:
    splitter = SentenceSplitter(**options)  # type: ignore[arg-type]
    pieces = [text[i : i + 2] for i in range(0, len(text), 2)]
    return [s for piece in pieces for s in splitter.feed(piece)] + splitter.flush()


def test_a_spelled_word_is_never_cut_by_the_opening_clause() -> None:
    """The bug a child heard: "Dinosaur is spelled D," then the rest as a sentence of its own."""
    text = "Dinosaur is spelled D, I, N, O, S, A, U, R. Great try!"
    for minimum in (4, 12, 24):
        assert _streamed(text, first_clause_min_chars=minimum) == [
            "Dinosaur is spelled D, I, N, O, S, A, U, R.",
            "Great try!",
        ]


def test_a_number_list_is_never_cut_but_other_clauses_are() -> None:
    assert _streamed("Count by twos with me, 2, 4, 6, 8, 10. Nice!", first_clause_min_chars=4) == [
        "Count by twos with me,",
        "2, 4, 6, 8, 10.",
        "Nice!",
    ]
    assert _streamed("Seven times eight is 56, well done you!", first_clause_min_chars=12) == [
        "Seven times eight is 56,",
        "well done you!",
    ]
    # Still arriving and ending in a lone letter: it may be the start of a run, so wait.
    splitter = SentenceSplitter(first_clause_min_chars=4)
    assert splitter.feed("Cat is spelled C, ") == []
    assert splitter.feed("A, T. ") == ["Cat is spelled C, A, T."]


def test_letter_runs_are_found_and_plain_words_are_not() -> None:
    assert letter_runs("Knife is spelled K, N, I, F, E.") == [(17, 30)]
    assert letter_runs("C-A-T spells cat") == [(0, 5)]
    assert letter_runs("Plan B. I think so, I do.") == []
    assert letter_runs("A T-shirt and an X-ray") == []
    assert letter_runs("Don't is spelled D, O, N, apostrophe, T.")
    assert protected_spans("Count 1, 2, 3 and say A, B.") == [(6, 13), (22, 26)]


def test_letter_runs_render_one_letter_at_a_time_after_a_lead_in() -> None:
    rendered = render_letter_runs(
        "Dog is spelled D, O, G. Bye.", lambda items: "<" + "|".join(items) + ">"
    )
    assert rendered == "Dog is spelled: <D|O|G>. Bye."
    assert render_letter_runs("C-A-T!", lambda items: ", ".join(items).lower()) == "c, a, t!"
    assert render_letter_runs("Don't: D, O, N, apostrophe, T", " ".join) == (
        "Don't: D O N apostrophe T"
    )


def test_markdown_is_stripped_the_same_way_everywhere() -> None:
    assert speakable_text("**Great** job! <b>Yes</b> ⭐ `code`") == "Great job! Yes code"
    assert speakable_text("[[ h ə l oʊ ]] hi") == "h ə l oʊ hi"
    assert speakable_text("***") == ""


def test_the_agent_splitter_keeps_spacing_for_its_streaming_filter() -> None:
    splitter = AgentSplitter()
    assert list(splitter.feed("Hi there! Here:\n- one")) == ["Hi there! ", "Here:\n"]
    assert splitter.flush() == "- one"


def test_phrase_sentences_match_what_a_stream_produces() -> None:
    phrases = ["Hmm, let me think. Good question!", "Good question!"]
    assert phrase_sentences(phrases) == ["Hmm, let me think.", "Good question!"]
    assert split_sentences("Hmm,  let me\tthink.") == ["Hmm, let me think."]
