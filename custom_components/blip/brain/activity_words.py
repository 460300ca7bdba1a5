"""What an ordinary turn in another language asks for, read from a few words.

The activity rules (router.py) read English: ``normalise_utterance`` keeps only ASCII letters,
so "cuéntame un cuento", "ek kahani sunao", "احكي لي قصة" or "我好难过" leave them with a
small-talk guess, and only the learned head (activity_model.py) can say better — and it is
least sure exactly there (by-writer cross-validation: ~78% on other languages against ~84%
overall). Children in an English-speaking home also talk in Spanish, French, Hindi and Urdu
(in script and romanised), Arabic (in script and Arabizi), Chinese, Portuguese, Tagalog,
Vietnamese, Korean and Russian, so the request and feeling words of those languages are
read here, on the raw turn (lowercased, any script).

These are the words a request or a feeling is made of (a story, a poem, a song, a riddle, a
joke to hear; sad, afraid, angry, missing someone; how a word is written), never whole
sentences.
Each is one rule-level reading: the head still decides over it when it is confident (see
Router._activity). Safety is judged before any of this.

No Home Assistant import.
"""

from __future__ import annotations

import re
from typing import Final

from .activities import Activity


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


# Latin-script words are matched at word edges; Chinese, Korean, Arabic and Devanagari words
# are matched anywhere (those scripts have no spaces between words, or attach particles).
_SPELLING_WORDS: Final = _rx(
    # es / pt: "cómo se escribe", "deletrea"; fr: "comment on écrit", "épelle"
    r"\bc[oó]mo se (?:escribe|deletrea|dice en ingl[eé]s)\b",
    r"\bdeletre\w*",
    r"\bcomo (?:se )?escreve\b",
    r"\bsoletr\w*",
    r"\bcomment (?:on |ça |ca )?(?:s'|s )?[ée]cri[tr]\w*",
    r"\b[ée]pel(?:le|er|les)\b",
    # hi / ur (romanised): "kaise likhte hai", "ki spelling"
    r"\bkaise likh\w*",
    r"\bki spelling\b",
    r"\bspelling (?:kya|batao)\b",
    # ar (Arabizi): "kif btektob", "ezay aktob"
    r"\b(?:kif|kayf|keef|ezay|izzay) (?:b?t?e?ktob|b?n?ektob|a?ktob|bti?ktib|tiktib)\b",
    # tl / vi / ru
    r"\bpaano (?:isulat|i-spell|ispell|baybayin)\b",
    r"\bviết (?:thế nào|như thế nào)",
    r"\bđánh vần",
    r"\bкак (?:пишется|написать|правильно пишется)\b",
    # scripts
    r"कैसे लिख",
    r"स्पेलिंग",
    r"كيف (?:ا|ت|ن|ب)?(?:كتب|تكتب)",
    r"(?:ازاي|إزاي) (?:ا|أ|ت|ب)?كتب",
    r"怎么写",
    r"怎么拼",
    r"拼写",
    r"어떻게 (?:써|쓰)",
    r"철자",
)

_CREATIVE_WORDS: Final = _rx(
    # es: a story, a poem, a song, a riddle; "invent one"
    r"\b(?:cu[eé]ntame|cuento|cuentito|poemas?|poes[ií]a|canci[oó]n|c[aá]ntame|"
    r"adivinanzas?|inventa)\b",
    # fr
    r"\b(?:raconte\w*|po[eè]mes?|chansons?|chante-moi|chante moi|devinettes?|"
    r"comptines?|invente)\b|\bune histoire\b",
    # pt
    r"\b(?:hist[oó]rinha|conta uma hist[oó]ria|uma hist[oó]ria|adivinha(?:ção|cao)?)\b",
    # hi / ur (romanised)
    r"\b(?:kahani|kahaani|kahaniyan|kavita|kavitha|gaana|geet|nazm|paheli)\b",
    # ar (Arabizi): "e7kili 2issa", "ughniye"
    r"\b(?:e7ki\w*|i7ki\w*|2[ie]s+[ae]|2osa|7[ea]?kay[ae]|[ou]?ghniy?[ae]|"
    r"2a?s[ie]d[ae]|fazzoura|fazoura|loghz)\b",
    # tl / vi / ru
    r"\b(?:kwento|kuwento|bugtong|kantahan)\b",
    r"\b(?:kể chuyện|câu chuyện|truyện|bài thơ|bài hát|câu đố)",
    r"\b(?:сказк\w*|расскажи|стих\w*|песн\w*|песенк\w*|загадк\w*)",
    # scripts
    r"कहानी|कविता|गाना|गीत|पहेली",
    r"قصة|قصه|حكاية|حكايه|احكي|احكيلي|إحكي|قصيدة|قصيده|أغنية|اغنية|اغنيه|لغز|فزورة",
    r"故事|讲个|讲一个|首诗|写诗|一首歌|唱歌|儿歌|谜语|编一个",
    r"이야기 ?해 ?줘|동화|노래 ?불러|수수께끼",
)

# A joke or a tongue twister to hear is small talk, as in English (router._PLAY); one to
# make up ("inventa un chiste", "编一个笑话") is creative.
_JOKE_WORDS: Final = _rx(
    r"\b(?:chistes?|trabalenguas|blagues?|piadas?|chutkula|chutkule|lateefa|no?kt[ae]|nokat|"
    r"анекдот\w*)\b",
    r"\bchuyện cười|चुटकुल|نكتة|نكته|笑话|绕口令|농담",
)
_INVENT_WORDS: Final = _rx(r"\b(?:inventa|invente|invent\w*)\b|编一个")

_FEELING_WORDS: Final = _rx(
    # es
    r"\b(?:triste|tristeza|miedo|asustad[oa]|enojad[oa]|enfadad[oa]|nervios[oa]|nervios|"
    r"preocupad[oa]|celos|celos[oa]|extra[ñn]o a|pesadillas?|me siento (?:sol[oa]|mal)|llor[eéoa]\w*|"
    r"verg[uü]enza|me da pena)\b",
    # fr
    r"\b(?:triste|peur|cauchemars?|me manquen?t?|jaloux|jalouse|[ée]nerv[ée]e?|d[ée][çc]ue?|"
    r"inqui[eè]te?|stress[ée]e?|le seum|honte|pleur\w*|f[âa]ch[ée]e?)\b",
    # pt
    r"\b(?:medo|saudades?|com raiva|chatead[oa]|preocupad[oa]|sozinh[oa]|chor(?:ei|ando|ou|o|ar)|"
    r"ci[uú]mes?|pesadelos?)\b",
    # hi / ur (romanised)
    r"\b(?:udaas|udas|darr?(?: sa)? lag\w*|darr?ta|darr?ti|gussa|bura lag\w*|yaad aa\w*|"
    r"tension ho\w*|pareshan|rona aa\w*|ro raha|ro rahi|akela|akeli|dukhi|ghabra\w*)\b",
    # ar (Arabizi); "bored" (zah2an) is small talk, as "i'm bored" is in English
    r"\b(?:za3lan[ae]?|z3lan[ae]?|7azeen[ae]?|7azin[ae]?|khayf[ae]?|khaif[ae]?|5ayf[ae]?|"
    r"5ayef|kabus|kaboos|kabous|mishta2\w*|mushta2\w*|msht2\w*|mdaye2\w*|"
    r"ba?5af|bakhaf|wa7eed[ae]?|wa7id[ae]?|2al2an[ae]?|ghayran[ae]?|ba?3ayat|bab3ayat)\b",
    # tl / vi / ru
    r"\b(?:malungkot|nalulungkot|takot|natatakot|galit|nagagalit|kinakabahan|nag-iisa|"
    r"umiyak|umiiyak)\b",
    # Vietnamese only with its tone marks: "so", "buon" are other languages' words.
    r"\b(?:buồn|sợ|lo lắng|giận|cô đơn|khóc|ác mộng)",
    r"(?:грустн|страшн|боюсь|злюсь|скучаю|одинок|плач|кошмар)",
    # scripts
    r"उदास|डर लग|गुस्सा|दुखी|रोना|अकेला|अकेली|याद आ|बुरा लग",
    r"زعلان|حزين|خائف|خايف|كابوس|وحشتني|وحشني|مشتاق|متضايق|بخاف|أخاف|اخاف|بكيت|"
    r"وحيد|قلقان|غيران|غضبان",
    r"难过|伤心|害怕|生气|想念|担心|紧张|噩梦|孤单|寂寞|委屈|嫉妒|不开心|哭",
    r"슬퍼|슬프|무서|화나|화가 나|걱정|외로|보고 싶|울었|울고|악몽",
)

# In the order they are tried: how a word is written, a joke to hear, a request to make
# something up (a story about a scared dragon is a story), then a feeling.
_CUES: Final = (
    (Activity.SPELLING, _SPELLING_WORDS),
    (Activity.CHITCHAT, _JOKE_WORDS),
    (Activity.CREATIVE, _CREATIVE_WORDS),
    (Activity.EMOTIONAL, _FEELING_WORDS),
)


def other_language_activity(raw: str) -> Activity | None:
    """The activity a turn's request or feeling words in another language name, or None."""
    lowered = raw.lower().replace("’", "'")
    for activity, words in _CUES:
        if words.search(lowered):
            if activity is Activity.CHITCHAT and _INVENT_WORDS.search(lowered):
                return Activity.CREATIVE
            return activity
    return None
