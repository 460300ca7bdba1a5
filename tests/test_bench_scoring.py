"""Benchmark scoring and the test set: exact spelling and math checks, the rubric, loading."""

from __future__ import annotations

from fractions import Fraction
import json
from pathlib import Path

import pytest

from custom_components.blip.bench.judge import parse_rating
from custom_components.blip.bench.scoring import (
    LENGTH_RANGES,
    is_attempt_at,
    markdown_found,
    numbers_said,
    score_answer,
    score_math,
    score_spelling,
    spelled_runs,
)
from custom_components.blip.bench.testset import (
    BENCHMARKED_ACTIVITIES,
    CaseFileError,
    load_testset,
    parse_case,
)
from custom_components.blip.brain import Activity, DrillEngine, Router

# ---- spelling -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "Cat is spelled C, A, T.",
        "c-a-t",
        "C A T",
        "**C**, **A**, **T**!",  # markdown around the letters is cleaned away first
        "C. A. T.",
        "Sure! C, A, T. A cat says meow.",  # the next sentence's "A" is not a fourth letter
        "It's C-A-T, cat!",
    ],
)
def test_right_spellings_pass(answer: str) -> None:
    assert score_spelling(answer, "cat").passed


def test_double_letters_are_read() -> None:
    assert spelled_runs("Book is B, double O, K.", break_at_sentence_end=True) == ["book"]
    assert score_spelling("Book is B, double O, K.", "book").passed


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        ("Cat is spelled K, A, T.", ["letters", "no_wrong_spelling"]),
        ("Cat is spelled C, A, T. Or maybe K, A, T.", ["no_wrong_spelling"]),
        ("Cat is a lovely word!", ["letters"]),
        ("Cat is spelled CAT.", ["letters"]),  # not letter by letter
        ("Because is B, E, C, A, U, S.", ["letters", "no_wrong_spelling"]),
    ],
)
def test_wrong_spellings_fail(answer: str, failed: list[str]) -> None:
    word = "because" if answer.startswith("Because") else "cat"
    score = score_spelling(answer, word)
    assert score.score == 0.0 and not score.passed
    assert score.failed() == failed


def test_a_hint_about_some_letters_is_not_a_misspelling() -> None:
    answer = "Beautiful is spelled B, E, A, U, T, I, F, U, L. E, A, U together say yoo."
    assert not is_attempt_at("eau", "beautiful")
    assert score_spelling(answer, "beautiful").passed


def test_homophones_may_be_spelled_too() -> None:
    answer = "Sun is spelled S, U, N. Son is spelled S, O, N, like a boy."
    assert not score_spelling(answer, "sun").passed
    assert score_spelling(answer, "sun", ("son",)).passed


def test_the_drill_engine_passes_its_own_spelling_answers() -> None:
    engine = DrillEngine()
    for word in ("cat", "elephant", "rhythm", "knife"):
        reply = engine.respond(f"How do you spell {word}?", None, 8)
        assert reply is not None
        assert score_spelling(reply.text, word).passed, reply.text


# ---- math -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("7 times 8 is 56.", 56),
        ("Seven times eight is fifty-six!", 56),
        ("The answer is fifty six.", 56),
        ("That's one hundred forty-four.", 144),
        ("Half of nine is four and a half.", Fraction(9, 2)),
        ("It is 4.5.", Fraction(9, 2)),
        ("1,000 minus 1 is 999.", 999),
        ("Five times zero is zero.", 0),
    ],
)
def test_numbers_in_words_and_digits(answer: str, expected: Fraction | int) -> None:
    assert score_math(answer, Fraction(expected)).passed


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Seven times eight is fifty-four.", 56),
        ("7 times 8 is 54.", 56),
        ("Great question! Let's count together.", 56),
        ("Half of nine is four.", Fraction(9, 2)),
        ("Five six.", 56),  # two numbers said one by one are not fifty-six
    ],
)
def test_wrong_or_missing_numbers_fail(answer: str, expected: Fraction | int) -> None:
    score = score_math(answer, Fraction(expected))
    assert score.score == 0.0 and score.failed() == ["number"]


def test_numbers_said_in_order() -> None:
    assert numbers_said("Three plus 4 is seven") == [3, 4, 7]


# ---- rubric ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kinds"),
    [
        ("**Wow!** That is great.", ["bold/italic"]),
        ("Here:\n- apples\n- pears", ["bullet list"]),
        ("Steps:\n1. Wash\n2. Dry", ["numbered list"]),
        ("# Title\nText", ["heading"]),
        ("Use `print`", ["code"]),
        ("See [this](http://x.y)", ["link"]),
        ("| a | b |\n|---|---|", ["table"]),
        ("Yay 🎉", ["emoji"]),
        ("Line one<br>line two", ["html"]),
    ],
)
def test_markdown_is_detected(raw: str, kinds: list[str]) -> None:
    assert markdown_found(raw) == kinds


@pytest.mark.parametrize(
    "raw",
    [
        "7. Great job, that is right!",  # one number at the start is an answer, not a list
        "Two - no, three - apples.",
        "I love stars, they twinkle!",
        "Five * five is twenty-five.",
    ],
)
def test_plain_spoken_text_has_no_markdown(raw: str) -> None:
    assert markdown_found(raw) == []


def _trivia_case(**extra: object) -> object:
    return parse_case(
        {
            "id": "t",
            "activity": "trivia",
            "prompt": "How many legs does a spider have?",
            "age": 6,
            "keywords": ["eight|8", "legs"],
            **extra,
        }
    )


def test_rubric_checks_each_count_a_quarter() -> None:
    case = _trivia_case()
    good = score_answer(case, "A spider has eight legs. Fun fact: most spiders have eight eyes!")
    assert (good.score, good.passed) == (1.0, True)

    markdown = score_answer(case, "A spider has **8 legs**. Fun fact: spiders spin silk!")
    assert (markdown.score, markdown.failed()) == (0.75, ["no_markdown"])

    off_topic = score_answer(case, "Spiders are fun to watch in the garden on a sunny day.")
    assert (off_topic.score, off_topic.failed()) == (0.75, ["answers_question"])

    rude = score_answer(case, "A spider has eight legs, you idiot.")
    assert rude.failed() == ["age_appropriate"]

    long_answer = "A spider has eight legs. " + "Spiders are amazing. " * 40
    assert score_answer(case, long_answer).failed() == ["length"]

    hard = score_answer(
        case,
        "Arachnids, characteristically, possess eight articulated appendages "
        "(legs) facilitating extraordinary locomotion.",
    )
    assert "age_appropriate" in hard.failed()


def test_keyword_groups_and_case_length_overrides() -> None:
    case = _trivia_case(min_keywords=2, min_words=1, max_words=6)
    assert score_answer(case, "Eight legs!").passed
    assert score_answer(case, "It has eight.").failed() == ["answers_question"]
    assert score_answer(case, "A spider has eight legs, isn't that fun?").failed() == ["length"]
    # Short keywords match whole words and plurals only ("leg" would match "legs", not "legend").
    owl = parse_case(
        {"id": "o", "activity": "trivia", "prompt": "?", "age": 6, "keywords": ["owl"]}
    )
    assert score_answer(owl, "Owls hunt at night with big eyes.").passed
    assert score_answer(owl, "Bowling is a fun game to play.").failed() == ["answers_question"]


# ---- the test set ---------------------------------------------------------------------------


def test_shipped_test_set_has_dozens_of_cases_per_activity() -> None:
    cases = load_testset()
    for activity in BENCHMARKED_ACTIVITIES:
        mine = [c for c in cases if c.activity is activity]
        assert len(mine) >= 24, activity
        assert all(5 <= c.age <= 10 for c in mine)
    assert len({c.id for c in cases}) == len(cases)
    assert not any(c.activity is Activity.SAFETY for c in cases)


def test_every_reference_answer_scores_full_marks() -> None:
    """The checks can be met by a good answer: each case's reference passes them all."""
    for case in load_testset():
        assert case.reference
        score = score_answer(case, case.reference)
        assert score.passed, (case.id, score.checks)


def test_every_case_is_routed_to_its_activity() -> None:
    """A row of the routing table governs the turns the router gives that activity."""
    router = Router()
    for case in load_testset():
        decision = router.decide(case.prompt, age=case.age)
        assert decision.safety is None, case.id
        assert decision.activity is case.activity, case.id


def test_rubric_length_ranges_cover_every_rubric_activity() -> None:
    assert set(LENGTH_RANGES) == set(BENCHMARKED_ACTIVITIES) - {Activity.SPELLING, Activity.MATH}


def test_loading_filters_and_limits(tmp_path: Path) -> None:
    cases = load_testset(activities=[Activity.MATH, Activity.TRIVIA], limit_per_activity=3)
    assert [c.activity for c in cases] == [Activity.MATH] * 3 + [Activity.TRIVIA] * 3
    single = tmp_path / "one.jsonl"
    single.write_text(
        "# a comment\n\n"
        + json.dumps(
            {"id": "s", "activity": "spelling", "prompt": "spell dog", "age": 5, "word": "Dog"}
        )
        + "\n"
    )
    (case,) = load_testset(single)
    assert case.word == "dog"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "one.jsonl:1:"),
        ('["a list"]', "each line must be a JSON object"),
        ('{"id": "x", "activity": "safety", "prompt": "p", "age": 7}', "safety is not benchmarked"),
        (
            '{"id": "x", "activity": "cooking", "prompt": "p", "age": 7}',
            "unknown activity 'cooking'",
        ),
        ('{"id": "x", "activity": "math", "prompt": "p", "age": 7}', "math cases need 'answer'"),
        (
            '{"id": "x", "activity": "math", "prompt": "p", "age": 7, "answer": "lots"}',
            "'answer' is not a number",
        ),
        (
            '{"id": "x", "activity": "spelling", "prompt": "p", "age": 7, "word": "c4t"}',
            "letters a to z",
        ),
        ('{"id": "x", "activity": "trivia", "prompt": "p", "age": 7}', "'keywords' must be"),
        ('{"id": "x", "activity": "trivia", "prompt": "p", "age": 70, "keywords": ["a"]}', "'age'"),
        (
            '{"id": "x", "activity": "trivia", "prompt": "p", "age": 7, "keywords": ["a"], "min_keywords": 2}',
            "'min_keywords'",
        ),
        (
            '{"id": "x", "activity": "chitchat", "prompt": " ", "age": 7, "keywords": ["a"]}',
            "'prompt'",
        ),
        ('{"id": "x", "activity": "math", "prompt": "p", "answer": 2}', "'age' is required"),
        (
            '{"id": "x", "activity": "math", "prompt": "p", "age": 7, "answer": true}',
            "'answer' must be a number or a number string, got True",
        ),
        (
            '{"id": "x", "activity": "math", "prompt": "p", "age": 7, "answer": "1/0"}',
            "'answer' is not a number",
        ),
        (
            '{"id": "x", "activity": "spelling", "prompt": "p", "age": 7, "word": "sun",'
            ' "homophones": ["s0n"]}',
            "'homophones' must be a list of words",
        ),
        (
            '{"id": "x", "activity": "trivia", "prompt": "p", "age": 7, "keywords": [3]}',
            "each keyword must be a string, got 3",
        ),
        (
            '{"id": "x", "activity": "trivia", "prompt": "p", "age": 7, "keywords": [" | "]}',
            "empty keyword group",
        ),
        (
            '{"id": "x", "activity": "creative", "prompt": "p", "age": 7, "keywords": ["a"],'
            ' "min_words": 50, "max_words": 10}',
            "'min_words' is larger than 'max_words'",
        ),
    ],
)
def test_bad_test_set_lines_are_clear_errors(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(CaseFileError) as raised:
        load_testset(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_test_set_errors_for_files_and_duplicates(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="no such test-set file"):
        load_testset(tmp_path / "missing.jsonl")
    with pytest.raises(CaseFileError, match=r"no \*\.jsonl"):
        load_testset(tmp_path)
    row = json.dumps({"id": "d", "activity": "math", "prompt": "1+1", "age": 6, "answer": 2})
    (tmp_path / "a.jsonl").write_text(row + "\n")
    (tmp_path / "b.jsonl").write_text(row + "\n")
    with pytest.raises(CaseFileError, match="case id 'd' is also in"):
        load_testset(tmp_path)
    with pytest.raises(CaseFileError, match="no cases for the chosen activities"):
        load_testset(tmp_path / "a.jsonl", activities=[Activity.TRIVIA])
    with pytest.raises(CaseFileError, match="safety is not benchmarked"):
        load_testset(activities=[Activity.SAFETY])
    (tmp_path / "latin1.jsonl").write_bytes(b"\xff\xfe not utf-8\n")
    with pytest.raises(CaseFileError, match="cannot read test set"):
        load_testset([tmp_path / "latin1.jsonl"])


# ---- llm-judge ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "rating"),
    [
        ("5", 1.0),
        ("1", 0.0),
        ("I'd say 4.", 0.75),
        ("Grade: 3/5", 0.5),
        ("great", None),
        ("9", None),
    ],
)
def test_judge_rating_parsing(reply: str, rating: float | None) -> None:
    assert parse_rating(reply) == rating
