"""Request and feeling words in other languages (brain/activity_words.py) and how the activity
rules use them: the English rules see only ASCII words, so these turns used to be small talk."""

from __future__ import annotations

import pytest

from custom_components.blip.brain import HistoryTurn
from custom_components.blip.brain.activities import Activity
from custom_components.blip.brain.activity_words import other_language_activity
from custom_components.blip.brain.router import classify_activity, classify_activity_why


@pytest.mark.parametrize(
    "text",
    [
        "cuéntame un cuento de una tortuga que quiere volar",
        "inventa una canción para mi hermanito",
        "raconte-moi une histoire de chevalier",
        "tu peux inventer un poème sur la neige",
        "conta uma história de um gato pirata",
        "ek kahani sunao ek chhote hathi ki",
        "ek kavita likho barish par",
        "e7kili 2issa 3an bisseh",
        "احكيلي قصة عن نجمة",
        "给我讲一个关于恐龙的故事",
        "kwento ka tungkol sa isang pusa",
        "kể chuyện về con thỏ đi",
        "расскажи сказку про медведя",
        "이야기 해줘 토끼 이야기",
        "मुझे एक कविता सुनाओ",
    ],
)
def test_a_request_to_make_something_up_is_creative(text: str) -> None:
    assert other_language_activity(text) is Activity.CREATIVE
    assert classify_activity(text) is Activity.CREATIVE


@pytest.mark.parametrize(
    "text",
    [
        "estoy triste porque mi tía se fue",
        "tengo miedo de la tormenta",
        "je suis triste mon copain est parti",
        "j'ai peur des araignées",
        "tô com saudade do meu primo",
        "main bahut udaas hoon aaj",
        "mujhe andhere se dar lagta hai",
        "ana za3lana ktir mn okhti",
        "أنا حزين اليوم",
        "我今天好难过",
        "nalulungkot ako ngayon",
        "con buồn quá",
        "мне грустно сегодня",
        "할머니가 보고 싶어",
    ],
)
def test_a_feeling_is_emotional(text: str) -> None:
    assert other_language_activity(text) is Activity.EMOTIONAL
    assert classify_activity(text) is Activity.EMOTIONAL


@pytest.mark.parametrize(
    "text",
    [
        "cómo se escribe jirafa",
        "comment on écrit papillon",
        "giraffe kaise likhte hain english mein",
        "kif btektob giraffe",
        "长颈鹿怎么写",
        "как пишется жираф",
    ],
)
def test_how_a_word_is_written_is_spelling(text: str) -> None:
    assert other_language_activity(text) is Activity.SPELLING
    assert classify_activity(text) is Activity.SPELLING


@pytest.mark.parametrize(
    "text",
    [
        "cuéntame un chiste de perros",
        "dis-moi une blague",
        "conta uma piada",
        "ek chutkula sunao",
        "احكيلي نكتة",
        "讲个笑话",
        "농담 해줘",
        "расскажи анекдот",
    ],
)
def test_a_joke_to_hear_is_small_talk(text: str) -> None:
    # The activity definitions: jokes are small talk, as "tell me a joke" is in English.
    assert other_language_activity(text) is Activity.CHITCHAT
    assert classify_activity(text) is Activity.CHITCHAT


@pytest.mark.parametrize("text", ["inventa un chiste de gatos", "编一个笑话"])
def test_a_joke_to_make_up_is_creative(text: str) -> None:
    assert other_language_activity(text) is Activity.CREATIVE
    assert classify_activity(text) is Activity.CREATIVE


def test_a_story_about_a_scared_animal_is_still_a_story() -> None:
    # Creative words are tried before feeling words: the fear is the story's, not the child's.
    assert other_language_activity("cuéntame un cuento de un gato que tiene miedo") is (
        Activity.CREATIVE
    )
    assert other_language_activity("raconte une histoire d'un loup qui a peur") is (
        Activity.CREATIVE
    )


@pytest.mark.parametrize(
    "text",
    [
        "so what do you want to do today",
        "i did my chores and then i played the chord on my guitar",
        "the surface tension of water is cool",
        "buon giorno blip",
        "hola blip como estas",
        "bonjour ça va",
        "kya haal hai blip",
        "你好 blip",
        "",
    ],
)
def test_ordinary_words_name_no_activity(text: str) -> None:
    assert other_language_activity(text) is None


def test_the_english_rules_come_first() -> None:
    # An English request in a code-switched turn is read by the English rules as before.
    assert classify_activity("mujhe ek joke sunao blip") is Activity.CHITCHAT
    assert classify_activity("tell me a story please, estoy triste") is Activity.CREATIVE


def test_other_language_words_are_a_rule_reading_the_head_may_overrule() -> None:
    # Rule level, not precise: the learned head still decides over it when it is confident,
    # and drills (which need precise readings) never start from these words.
    activity, how = classify_activity_why("cuéntame un cuento de piratas")
    assert (activity, how) == (Activity.CREATIVE, "rule")


def test_a_feeling_word_in_the_previous_turn_carries_a_weak_answer() -> None:
    history = [
        HistoryTurn("user", "estoy muy triste hoy"),
        HistoryTurn("assistant", "Lo siento. ¿Qué pasó?"),
    ]
    activity, _ = classify_activity_why("mi amiga no vino", history)
    assert activity is Activity.EMOTIONAL


# ---- English rules changed in the same round (router.py) ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "i got every word right on my spelling test",
        "we had the spelling bee today and i came third",
        "i messed up my spelling quiz",
    ],
)
def test_a_spelling_test_only_told_about_is_not_a_spelling_request(text: str) -> None:
    activity, how = classify_activity_why(text)
    assert activity is not Activity.SPELLING
    assert how != "precise"  # the head may read it as news or as a feeling


@pytest.mark.parametrize(
    "text",
    [
        "can you quiz me on my spelling words",
        "my spelling test is friday, help me practice",
        "i have a spelling bee tomorrow spell receive please",
        "c a t that was my word in the spelling bee",
    ],
)
def test_a_spelling_test_asked_about_is_still_spelling(text: str) -> None:
    assert classify_activity_why(text) == (Activity.SPELLING, "precise")


@pytest.mark.parametrize(
    "text",
    [
        "how many a in banana",
        "how many esses in mississippi",
        "how many vowels are in elephant",
        "how many syllables in caterpillar",
    ],
)
def test_counting_letters_is_spelling(text: str) -> None:
    assert classify_activity(text) is Activity.SPELLING


def test_how_many_in_all_is_a_sum() -> None:
    assert classify_activity_why("how many wheels do five bikes have all together") == (
        Activity.MATH,
        "rule",
    )
    # Without "in all" a how-many question about the world stays a question.
    assert classify_activity("how many legs does an octopus have") is Activity.TRIVIA
    # "In all" with no number to add is a question about the world too.
    assert classify_activity("how many stars are there in total") is Activity.TRIVIA
    assert classify_activity("how many teeth do grown ups have in all") is Activity.TRIVIA


def test_spanish_feeling_fine_is_not_emotional() -> None:
    """ "Me siento" is only "I feel": the feeling word decides, as the English rules do."""
    assert classify_activity("me siento bien") is not Activity.EMOTIONAL
    assert classify_activity("me siento muy feliz hoy") is not Activity.EMOTIONAL
    assert classify_activity("me siento sola") is Activity.EMOTIONAL
