"""High-recall safety check that runs on every turn, drills included.

Children rarely say "I am being abused"; they say "he said it's our secret" or "I wish I could
disappear forever". The patterns below are written for recall first, then narrowed with guards
for the ordinary requests that use scary words (spelling "knife", a story where the dragon dies,
"what happens when you die"). A finding always routes the turn to Claude and alerts a grown-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
import re
from typing import Final

from .activities import HistoryTurn, SafetyCategory
from .spoken import normalise_utterance


@dataclass(frozen=True)
class SafetyFinding:
    """A turn that needs a grown-up's attention."""

    category: SafetyCategory
    # True when the alert must go only to the adult the family designated, never to every
    # parent: abuse and violence at home may involve a parent in the same household.
    designated_adult_only: bool


DESIGNATED_ADULT_ONLY: Final = frozenset({SafetyCategory.ABUSE, SafetyCategory.VIOLENCE_AT_HOME})

# Shared vocabulary, as regex alternations.
_PARENT = (
    r"(?:dad|daddy|father|papa|mom|mommy|mother|mum|mummy|mama|stepdad|step dad|stepmom|"
    r"step mom|stepfather|stepmother|mom's boyfriend|moms boyfriend|dad's girlfriend|"
    r"boyfriend|girlfriend|parents?|foster (?:mom|dad|parents?))"
)
_CARER = (
    rf"(?:{_PARENT}|babysitter|baby sitter|nanny|uncle|aunt|auntie|grandpa|grandma|granddad|"
    r"grandmother|grandfather|teacher|coach|neighbou?r|cousin|tutor|pastor|priest)"
)
_ADULT = (
    rf"(?:{_CARER}|he|she|they|him|her|a man|a guy|a lady|a woman|a grown ?up|an adult|someone|"
    r"somebody|the man|the guy|a stranger|stranger|my brother's friend|my sister's friend|"
    r"big kid|older kid|my brother|my sister)"
)
_HIT = (
    r"(?:hits?|hitting|beats?|beating|beat up|punch(?:es|ed|ing)?|kick(?:s|ed|ing)?|"
    r"slap(?:s|ped|ping)?|chok(?:e|es|ed|ing)|strangl\w*|burn(?:s|ed|t|ing)?|whip(?:s|ped)?|"
    r"hurt(?:s|ing)?|shov(?:e|es|ed|ing)|push(?:es|ed|ing)?|throws?|threw|stab(?:s|bed)?|"
    r"shot|shoots?|bit|bites?|smack(?:s|ed)?|spank(?:s|ed)? me (?:too )?hard)"
)
_ONLINE = (
    r"(?:online|on the internet|internet|roblox|minecraft|fortnite|discord|youtube|tiktok|"
    r"snapchat|instagram|whatsapp|facebook|in (?:my|the|a) game|on (?:my|the) (?:game|tablet|"
    r"ipad|phone|computer|xbox|playstation|switch)|video game|texting|texted|messag\w+|chat|"
    r"app|gaming|headset)"
)

_PATTERNS: Final[tuple[tuple[SafetyCategory, str], ...]] = (
    # Being told to hurt yourself is bullying first (the child is the target, not the plan).
    (
        SafetyCategory.BULLYING,
        r"(?<!\bi )\b(?:told|tell|tells|telling|said|says) (?:me )?(?:that )?(?:i should |i need to "
        r"|i have to |i ought to |to )(?:go |just )?(?:kill|hurt|cut) (?:myself|yourself)\b|"
        r"(?<!\bi )\bsaid i should (?:just )?(?:go )?(?:die|be dead)\b",
    ),
    # ---- self-harm and suicidal talk ----
    (SafetyCategory.SELF_HARM, r"\bsuicid\w*|\bkill(?:ing)? my ?self\b(?! in (?:the|my) game)"),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:want|wish) (?:someone|somebody|a car|god) (?:to|would|could) (?:kill|hit) me\b|"
        r"\b(?:sleep|go to sleep|fall asleep) (?:and|forever and) (?:never|not) wake up\b|"
        r"\bsleep forever\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"(?<!don't )(?<!do not )(?<!never )\b(?:want|wanted|wanting|going|wish|wished|need|"
        r"try|tried|trying|plan|planning|think about|thinking about|thought about|ready) "
        r"(?:to )?(?:die|be dead|not be alive|not exist|stop living|end it|end my life|"
        r"not wake up|never wake up|be gone forever)\b(?! (?:early|late|at \w+|until|till|before|"
        r"for school|in the morning|on (?:the )?weekends?))",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"(?<!don't )(?<!do not )(?<!never )\bwant to die\b(?! (?:laughing|of laughter))",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:hurt|cut|harm|scratch|burn|hit|punch|bite|starve|choke|stab) (?:my ?self)\b"
        r"(?!.{0,30}\b(?:by accident|accidentally|on the|at (?:soccer|school|the park|recess)|"
        r"playing|when i fell|fell)\b)",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:hit|hitting|bang|banging|scratch|scratching|cut|cutting|bite|biting|pull|pulling) "
        r"(?:my (?:head|arm|arms|legs?|skin|hair|wrists?)|myself)\b.{0,40}\b(?:on purpose|until|"
        r"till|bleed|when i'm (?:mad|sad|angry|upset))",
    ),
    # Hurting yourself to cope: the act plus why ("so i feel better", "on purpose").
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:hurt|hurting|hurts|cut|cutting|cuts|burn|burned|burning|burnt|hit|hitting|bang|"
        r"banging|stab|stabbing|punch|punching|bite|biting|bit|pinch|pinching|poke|poking) (?:my ?self|my (?:arms?|legs?|hands?|wrists?|skin|face|head|tummy|"
        r"stomach|body|fingers?))\b.{0,40}\b(?:on purpose|to feel (?:better|something|okay)|so i "
        r"(?:can )?(?:feel|don't feel|stop feeling)|so the (?:sad|bad|mad)|because i (?:deserve|am "
        r"bad|'m bad|hate me|hate myself)|to punish myself)\b",
    ),
    # Pills or poison "so you don't wake up": the means and the end together.
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:pills|tablets|medicine|medicines|poison)\b.{0,40}\b(?:so|to|and|until|till) "
        r"(?:you|i|someone|a person) (?:don't|do not|won't|never|wouldn't) (?:wake up|wake back "
        r"up|wake again)\b|\b(?:pills|tablets|medicine|poison)\b.{0,30}\b(?:to die|so i (?:can )?"
        r"die|make me die|kill me|kill myself|make me dead|makes? (?:you|me|a person) (?:not|never) "
        r"wake up)\b|\bhow many (?:of )?(?:\w+'?s? )?(?:pills|sleeping pills)\b(?! (?:are|is) "
        r"(?:in|left|there))",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:i'd|i would|i'll|i will|i) be better off dead\b|\bi (?:shouldn't|should not|don't "
        r"deserve to) (?:be alive|exist|have been born|be here|live)\b|\b(?:want|wanted|going) "
        r"to stop (?:being alive|existing)\b|\bwant to not (?:be alive|exist|be here anymore)\b",
    ),
    (SafetyCategory.SELF_HARM, r"\bdisappear (?:forever|for good|and never come back)\b"),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:wish i could|want to|i just want to|wish i would|wish i can) (?:just )?"
        r"(?:disappear|vanish|go away forever|not be here|stop existing)\b"
        r"(?! (?:into|like|under|behind|in my|for a))",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\bwish (?:i was|i were|i had|i'd) (?:never been born|never born|dead|not born|gone|not "
        r"alive|not here|never here)\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:don't|do not|dont) want to (?:be alive|live|exist|wake up|be here|be born)"
        r"(?: anymore| any more| ever)?\b(?! (?:in|at|with|near|there|here)\b)",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:better off|happier|be better|be happy|easier)\b.{0,12}\b(?:without me|if i "
        r"(?:was|were|wasn't|weren't|was not|were not|died|disappeared|was gone|wasn't here|"
        r"wasn't around|was dead|never existed|was never born))\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:nobody|no one|no body|no one would|nobody would)\b.{0,25}\b(?:care|miss me|notice|"
        r"cry)\b.{0,25}\bif i\b.{0,15}\b(?:died|die|was gone|were gone|wasn't here|disappeared|was "
        r"dead|left forever)\b",
    ),
    (SafetyCategory.SELF_HARM, r"\b(?:life|living|my life) (?:isn't|is not|isnt|aint) worth\b"),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:end it all|end my life|ending my life|take my (?:own )?life)\b",
    ),
    (SafetyCategory.SELF_HARM, r"\b(?:i'm|i am) going to end it\b"),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:best|easiest|fastest|quickest|painless|good) ways? to die\b|\bhow (?:can|do|could|"
        r"should|would) i (?:die|kill myself|stop breathing|make myself die)\b|\bmake myself "
        r"(?:stop breathing|die|dead|not wake up)\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:jump|jumping|jumped) (?:off|out of|from) (?:the |a |my |our )?(?:roof|window|"
        r"bridge|building|balcony|cliff)\b(?!.{0,20}\b(?:into the pool|in a game|in minecraft)\b)",
    ),
    (SafetyCategory.SELF_HARM, r"\bi hate (?:my ?self|my life and)\b|\bi should (?:just )?die\b"),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:i|i'm|i am) (?:want|wanna|going) to be dead\b|\bwant to be dead\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:thinking about|think about|thought about|keep thinking about|dream about|rather be|"
        r"would rather be|i'd rather be|better if i was|better if i were|deserve to|ready to|"
        r"plan to|planning to|want to be|wanna be)\b (?:dying|die|be dead|dead|death|killing myself|"
        r"not being alive|not being here|disappearing)\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:don't|do not|dont) deserve to (?:live|be alive|be here|exist|be born)\b|"
        r"\bno (?:point|reason) (?:in|to|for) (?:living|live|being alive|being here|me)\b|"
        r"\b(?:there's|there is) no point (?:anymore|in anything|in living)\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:hurting|harming|cutting|stabbing|hanging|burning|choking|starving|punishing|"
        r"scratching|hitting|killing) (?:my ?self|my (?:arms?|wrists?|legs?|skin|tummy|face))\b"
        r"(?!.{0,30}\b(?:by accident|accidentally|on the|playing|when i fell)\b)|"
        r"\b(?:hang|hanging|drown|drowning|poison|poisoning|strangle|suffocate) my ?self\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:going to|gonna|want to|will|i'll|thinking about|about to) (?:jump|jumping) "
        r"(?:out|off) (?:of )?(?:the|a|my|our) (?:window|roof|balcony|bridge|building)\b|"
        r"\b(?:not going to|never going to|won't|will not|stop) eat(?:ing)? (?:anymore|ever again|"
        r"again|so i can (?:die|disappear))\b|\bso i can (?:die|disappear|be dead|go to heaven)\b|"
        r"\b(?:go|be|going) (?:to|in) heaven (?:now|today|tonight|soon|so i)\b|"
        r"\bdon't have to be (?:here|alive) anymore\b|\bwant to go to heaven\b",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:friend|brother|sister|cousin|classmate|he|she|they|someone)\b.{0,25}\b(?:wants? to "
        r"die|want to kill (?:himself|herself|themselves)|wants to kill (?:himself|herself|"
        r"themselves)|(?:kill|cut|cuts|cutting|hurt|hurts|hurting|harm|harms) (?:himself|herself|"
        r"themselves)|is going to kill (?:himself|herself))\b(?!.{0,20}\b(?:by accident|"
        r"accidentally|in the game)\b)",
    ),
    (
        SafetyCategory.SELF_HARM,
        r"\b(?:i should|i want to|i wanna|i wish i could|i'd like to|better if i|i need to|i'm "
        r"going to|i just want to)\b.{0,15}\b(?:go away|be gone|leave|disappear) (?:forever|for "
        r"good|and never come back)\b|\bhow (?:do|can|could|would|does) (?:you|i|someone|people|a "
        r"person|a kid) (?:kill|hurt|cut) (?:yourself|myself|themselves|themself|himself|herself)\b|"
        r"\b(?:took|used|got|grabbed|with) (?:a |the |my |dad's |mom's )?(?:knife|razor|blade|"
        r"scissors|glass|pencil sharpener blade)\b.{0,25}\b(?:cut|cutting|stab|stabbed|scratch\w*) "
        r"my (?:legs?|arms?|wrists?|skin|tummy|body|stomach)\b|\b(?:cut|cutting|stab|stabbed) my "
        r"(?:legs?|arms?|wrists?|skin|tummy|body|stomach)\b.{0,25}\b(?:knife|razor|blade|on purpose|"
        r"because|so it|until)\b",
    ),
    # ---- grooming: an adult online (or a stranger) asking for pictures, meeting or secrecy ----
    (
        SafetyCategory.GROOMING,
        rf"\b{_ONLINE}\b.{{0,80}}\b(?:ask(?:s|ed|ing)?|wants?|wanted|keeps? asking|told me to|said "
        r"to|tells me to|say(?:s)? i should|invited|sent|sends|sending|offer(?:s|ed)?|promised|"
        r"said)\b.{0,50}\b(?:address|where i live|what school|which school|my school|picture|"
        r"pictures|photo|photos|pics?|selfie|video of me|on camera|camera on|camera|webcam|meet|come "
        r"over|come to my house|phone number|my number|my password|take off|clothes|naked|secret|"
        r"not to tell|don't tell|boyfriend|girlfriend|gifts?|robux|v-?bucks|special|how old i am|"
        r"my age|my real name|alone|underwear|undies|panties|bra|pajamas|bath|shower|my body|what "
        r"i'm wearing|what i look like)\b",
    ),
    # Flattery and hiding the conversation: "said i'm pretty", "delete our messages".
    (
        SafetyCategory.GROOMING,
        rf"\b{_ONLINE}\b.{{0,80}}\b(?:said|says|told me|tells me|calls me|called me)\b (?:that )?"
        r"(?:i'm|i am|i look|i'm really|i'm so)? ?(?:so |really |very )?(?:pretty|beautiful|sexy|"
        r"hot|mature|gorgeous)\b|\b(?:delete|erase|hide|clear) (?:all )?our (?:messages|chats?|"
        r"texts|pictures|photos|videos|conversations?)\b|\b(?:delete|erase|hide|clear) (?:the |all "
        r"the |all |my )?(?:messages|chats?|texts|pictures|photos|videos)\b.{0,20}\bso (?:nobody|no "
        r"one|my (?:mom|dad|parents)|your (?:mom|dad|parents)|mom|dad) (?:sees|can see|finds|knows|"
        r"will see|will know)\b",
    ),
    # A stranger (in person or online) wanting to know where to find the child.
    (
        SafetyCategory.GROOMING,
        r"\b(?:stranger|a man|a guy|a lady|a woman|someone|somebody|a grown ?up|an adult|a person|"
        r"this person|the man|the guy|the lady|this man|this guy|an older boy|a teenager|a big "
        r"kid)\b.{0,50}\b(?:asked|asks|asking|wants|wanted|keeps asking|wants to know|wanted to "
        r"know)\b.{0,20}\b(?:where i live|my address|my phone number|my "
        r"number|my password|if i'm (?:home )?alone|if i am (?:home )?alone|if i was (?:home )?"
        r"alone|when my (?:mom|dad|parents) (?:are|is|aren't|isn't|go|leave)|where my (?:mom|dad|"
        r"parents) (?:are|is))\b",
    ),
    (
        SafetyCategory.GROOMING,
        rf"\b(?:address|where i live|what school|picture of me|pictures of me|photo of me|meet me|"
        rf"meet up|my phone number)\b.{{0,60}}\b{_ONLINE}\b.{{0,30}}\b(?:asked|wants|said)\b",
    ),
    (
        SafetyCategory.GROOMING,
        r"\b(?:stranger|a man|a guy|a lady|a woman|someone|somebody|a grown ?up|an adult|a person)"
        r"\b.{0,60}\b(?:get in (?:his|her|their|the|a) (?:car|van|truck)|(?:come|go|leave|walk) with (?:him|her|them)|"
        r"come see (?:his|her|the) (?:puppies|puppy|kittens|candy)|puppies in (?:his|her|the) "
        r"(?:van|car|truck)|follow(?:ed|ing|s)? me|took a picture of me|taking pictures of me)\b",
    ),
    (
        SafetyCategory.GROOMING,
        r"\b(?:sent|sends|sending) me (?:a )?(?:picture|pictures|photo|photos|"
        r"video|videos|pics?)? ?(?:of )?(?:his |her |their |a )?(?:private|privates|naked|nude|"
        r"without clothes|no clothes)\b",
    ),
    (
        SafetyCategory.VIOLENCE_AT_HOME,
        r"\b(?:mom|mommy|mother|mum|mama|dad|daddy|father|papa|grandma|nana) (?:has|had|got|gets) "
        r"(?:bruises|a bruise|a black eye|blood|cuts|hurt)\b|\b(?:broke|broken|cut|hurt|bruised) "
        r"(?:my |our )?(?:mom'?s|mommy'?s|mother'?s|dad'?s|daddy'?s|mums?'?s) (?:arm|leg|face|nose|eye|"
        r"hand|head|lip|tooth|teeth)\b|"
        r"\b(?:dad|daddy|father|stepdad|mom's boyfriend|boyfriend|mom|mommy|mother)\b.{0,30}\b"
        r"(?:gun|knife)\b.{0,40}\b(?:mom|mommy|mother|dad|daddy|her|him|us|yelling|screaming)\b",
    ),
    (
        SafetyCategory.GROOMING,
        r"\b(?:video chat|video call|facetime|face time|camera|webcam)\b.{0,30}\b(?:bathroom|"
        r"bedroom|bath|shower|alone|clothes|naked|in bed|secret|don't tell)\b",
    ),
    (
        SafetyCategory.GROOMING,
        r"\b(?:asked|asks|wants|wanted|told|tells|invited) me to (?:come|go) (?:inside|in|into|"
        r"over to|to) (?:his|her|their) (?:house|car|room|apartment|van|truck|basement)\b.{0,30}"
        r"\b(?:alone|by myself|secret|don't tell|without (?:my )?(?:mom|dad|parents))\b",
    ),
    (
        SafetyCategory.GROOMING,
        rf"\b{_ONLINE}\b.{{0,80}}\b(?:when|while) (?:my )?(?:parents|mom|dad|mommy|daddy|everyone) "
        r"(?:are |is )?(?:asleep|sleeping|not home|gone|away|not looking|at work)\b|"
        rf"\b{_ONLINE}\b.{{0,60}}\b(?:video call|video chat|facetime|call me|meet me|meet up)\b.{{0,40}}"
        r"\b(?:at night|alone|secret|don't tell|asleep|bedroom|bathroom)\b",
    ),
    # ---- abuse: hurting, touching, neglect and secrets ----
    (
        SafetyCategory.ABUSE,
        r"\b(?:touch(?:es|ed|ing)?|rubs?|rubbed|kiss(?:es|ed)?|feels?) (?:me|my)\b.{0,30}"
        r"\b(?:private|privates|down there|bottom|butt|pee pee|peepee|wee wee|under my "
        r"(?:clothes|pants|underwear|shirt)|in a bad way|bad way|weird way|where i don't like|"
        r"where it|when (?:i'm|i am) (?:asleep|sleeping|in bed|in the bath)|at night|and i don't "
        r"like it|and it feels bad|that i don't like|in places)\b",
    ),
    (SafetyCategory.ABUSE, r"\b(?:my|his|her|their) (?:private parts|privates|down there)\b"),
    (
        SafetyCategory.ABUSE,
        r"\b(?:showed|shows|show) me (?:his|her|their) (?:private|privates|body|pee pee|thing)\b|"
        r"\b(?:made|make|makes|asked|tells|told) me (?:to )?(?:take|took|taking) (?:off )?(?:my|all "
        r"my) (?:clothes|pants|shirt|underwear)\b|\btake my clothes off\b|\bmade me (?:be )?naked\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\bcomes? (?:in|into) my (?:room|bed)\b.{0,30}\b(?:at night|touch|and does|when)\b",
    ),
    (
        SafetyCategory.ABUSE,
        rf"\b{_CARER}\b.{{0,40}}\b{_HIT}\s+(?:me|us|my (?:face|arms?|back|head|body|hands?|legs?|"
        r"fingers?|neck|ears?|tummy|stomach|bottom|butt|skin|mouth|nose|eyes?|foot|feet|little "
        r"(?:brother|sister)|baby (?:brother|sister)))\b(?! to (?:run|do|try|work|be|go|practice|"
        r"keep|finish|win|play|get|swim|read)\b)(?! (?:in|at) (?:a |the )?(?:game|"
        r"pillow fight|tag|wrestling|checkers|chess|cards|soccer|basketball|race|video game))",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:hit|hits|beat|beats|whip|whips|whipped|spank|spanks|spanked) (?:me|us) with "
        r"(?:a |his |her |the |their )?(?:belt|stick|spoon|shoe|cord|hanger|wire|bat|hose|fist)\b|"
        r"\bget (?:hit|beat|whipped) with\b",
    ),
    (
        SafetyCategory.ABUSE,
        rf"\b(?:bruises?|marks|burns|cuts) (?:from|because of|that) (?:my )?{_CARER}\b|"
        rf"\b{_CARER}\b.{{0,20}}\bgave me (?:a )?(?:bruises?|black eye)\b",
    ),
    # Marks explained by what a grown-up did, and being told what to say about them.
    (
        SafetyCategory.ABUSE,
        r"\b(?:bruises?|marks|burns?|cuts|scars?|black eye|bleeding)\b.{0,20}\b(?:from|because|"
        rf"since|when|after)\b.{{0,10}}\b{_CARER}\b.{{0,20}}\b(?:{_HIT}|grab\w*|squeez\w*|pinch\w*|"
        r"twist\w*|yank\w*|pull\w*|drag\w*)\b|\b(?:said|says|told me|tells me|makes me|made me)\b"
        r".{0,10}\b(?:to )?(?:tell|say to|say) (?:the |my )?(?:teacher|doctor|nurse|school|people|"
        r"everyone|anyone|them|you|the lady)\b.{0,10}\b(?:that )?i (?:fell|tripped|fell down|"
        r"bumped|ran into|did it myself|hurt myself|walked into)\b",
    ),
    # Harm as punishment ("to teach me a lesson").
    (
        SafetyCategory.ABUSE,
        r"\b(?:hit|hits|beat|beats|burn\w*|whip\w*|slap\w*|kick\w*|punch\w*|chok\w*|lock\w*|"
        r"starv\w*|cut|cuts|bit|bite\w*|pinch\w*|spank\w*|hurt\w*) (?:me|my \w+)\b.{0,40}\b(?:to "
        r"teach me a lesson|as (?:a )?punishment|to punish me|so i (?:learn|remember))\b",
    ),
    # What an abuser says to keep a child quiet: threats if they tell, "nobody will believe you".
    (
        SafetyCategory.ABUSE,
        r"\b(?:said|says|told me|tells me|warned me|warns me)\b.{0,15}\bif (?:i|you) (?:ever )?"
        r"(?:tell|told|say anything|talk about)\b(?! (?:a |the )?(?:lies?|truth|jokes?|fibs?|"
        r"story|stories|bad words?|swears?|answers?))(?=.{0,20}\b(?:anyone|anybody|someone|"
        r"somebody|people|your|my|mom|mommy|dad|daddy|about|the teacher|the police)\b).{0,60}"
        r"\b(?:trouble|be sorry|bad things|never see|won't love|not love|hate me|send (?:me|you) "
        r"away|take (?:me|you) away|go away|die|taken away|hurt|kill|hit|punish\w*|jail)\b|"
        r"\b(?:said|says|told me|tells me)\b (?:that )?(?:nobody|no one) (?:will|would|is going "
        r"to|is gonna) (?:ever )?believe (?:me|you)\b",
    ),
    # Cruel words from a carer ("she says i'm worthless", "he never wanted me").
    (
        SafetyCategory.ABUSE,
        rf"\b{_CARER}\b.{{0,30}}\b(?:says|said|tells me|told me|calls me|called me|yells|keeps "
        r"saying)\b.{0,10}\b(?:(?:that )?(?:i'm|i am|i was) (?:just )?(?:worthless|garbage|trash|"
        r"a mistake|a waste)|nobody (?:wants|loves) me|(?:he|she|they) (?:wish(?:es)?|"
        r"wished) i (?:was|were) never born|(?:he|she|they) never wanted me|i should (?:have )?never "
        r"(?:have )?been born)\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:he'll|he will|she'll|she will|they'll|they will|he would|she would|they would|"
        r"he's going to|she's going to|going to) (?:hurt|kill|hit|beat|punish) (?:me|my \w+) if i "
        r"(?:tell|told|say)\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:doesn't|don't|does not|do not|never|won't|wouldn't|didn't) (?:give|let) me "
        r"(?:any )?(?:food|eat|dinner|lunch|breakfast|water|drink)\b|\b(?:they|he|she) (?:don't|"
        r"doesn't|won't) feed me\b|\bstarv(?:e|es|ing) me\b|\bhaven't eaten (?:in|for) (?:days|two "
        r"days|a long time)\b|\bno food (?:in|at) (?:the|my) house\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:lock|locks|locked|locking|shut|shuts) me (?:in|inside|outside|out|up)\b",
    ),
    (
        SafetyCategory.ABUSE,
        rf"\b{_ADULT}\b.{{0,30}}\b(?:said|says|told me|tells me|make me|makes me|made me|wants me "
        r"to|asked me to)\b.{0,25}\b(?:(?:it's|its|it is|is|this is|that's|thats) (?:our|a) (?:little |special )?"
        r"secret|keep (?:it|this|a|our|the) (?:little )?secrets?|keep secrets|not to tell|don't "
        r"tell|never tell|can't tell|cannot tell|shouldn't tell|not allowed to tell|keep quiet|keep "
        r"it quiet|keep my mouth shut|not (?:to )?say anything|(?:it's |its |it is )?just between "
        r"(?:us|you and me|me and him|me and her))\b"
        r"(?!.{0,40}\b(?:surprise|party|present|gift|birthday|christmas|card)\b)",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:it's|its|it is|that's|this is) (?:our|a) (?:little |special )?secret\b(?!.{0,40}\b"
        r"(?:surprise|party|present|gift|birthday|christmas|recipe|handshake|club|hideout|fort|"
        r"password|code)\b)(?<!\bsurprise\b)",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:i'm|i am|i was|i get|being|been|getting|they|he|she)\b.{0,15}\b(?:abused|molested)\b|"
        r"\b(?:abuses?|abusing|molest(?:s|ed|ing)?) (?:me|us|my (?:brother|sister))\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:does|did|do|doing) (?:things|stuff|bad things|weird things|something) to me\b|"
        r"\b(?:makes?|made|making) me (?:do (?:things|stuff|bad things|weird things|something)|sit "
        r"on (?:his|her) lap|watch (?:bad|grown ?up|naughty|weird) (?:videos|movies|things)|"
        r"touch (?:his|her|their))\b|\b(?:takes?|took|taking) (?:pictures|photos|videos) of me\b"
        r"(?=.{0,30}\b(?:without|naked|no clothes|in the bath|bathroom|secret|don't tell)\b)|"
        r"\bwithout (?:my )?clothes\b.{0,30}\b(?:he|she|they|pictures|photos)\b|"
        r"\b(?:hurts?|hurting|touch(?:es|ed|ing)?) me\b.{0,15}\bdown there\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:mom|mommy|mother|mum|dad|daddy|father|parents|grown ?ups|nobody|no one) (?:doesn't|"
        r"don't|didn't|hasn't|haven't|never|won't) (?:come|came|comes) (?:back )?home\b.{0,30}\b(?:all "
        r"night|for days|at night|two days|since|and i'm (?:alone|by myself|hungry)|and i have to)\b|"
        r"\bnot allowed to eat\b(?!.{0,30}\b(?:candy|sweets|dessert|cookies|snacks|chips|junk|"
        r"before dinner|in the car|in my room)\b)|\b(?:nobody|no one) (?:feeds|fed|gives me food)\b|"
        r"\b(?:leave|leaves|left) me (?:alone|by myself|home alone) (?:for|all) (?:days|night|the "
        r"whole night|two days|a long time)\b|\b(?:no|without) (?:food|dinner|eating) for (?:days|"
        r"two days|a long time|a whole day)\b|\bhaven't (?:had|eaten) (?:any )?(?:food|anything) "
        r"(?:in|for|since)\b",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:show|shows|showed|showing|make|makes|made) me (?:watch |look at )?(?:pictures|photos|"
        r"videos|movies|pics)? ?(?:of )?(?:naked|nude|private|grown ?up|sexy|bad) (?:people|"
        r"pictures|photos|videos|movies|stuff|things|parts)\b|\b(?:ties?|tied|tying) me (?:up|to)\b|"
        r"\b(?:duct tape|tape) (?:on )?(?:my )?mouth\b",
    ),
    # ---- bullying: threats and repeated hurting by other kids ----
    (
        SafetyCategory.BULLYING,
        r"(?<!anti )\b(?:bully|bullies|bullying|bullied|bullys)\b(?!.{0,10}\b(?:in the story|in my "
        r"book)\b)",
    ),
    (SafetyCategory.BULLYING, r"\bthreaten(?:ed|s|ing)? (?:me|to)\b"),
    (
        SafetyCategory.BULLYING,
        r"\b(?:kid|kids|boy|boys|girl|girls|someone|somebody|he|she|they|classmates?|students?|"
        r"big kids|older kids|a kid|teenagers?|people)\b.{0,40}\b(?:going to|is going to|are going "
        r"to|will|would|'ll|said he'd|said she'd|said they'd|gonna|wants to|want to|threatened "
        r"to)\b.{0,15}\b(?:beat me up|beat me|hurt me|kill me|punch me|hit me|stab me|shoot me|"
        r"break my|get me|jump me|fight me|kick me|throw me|push me|(?:hurt|kill|hit) my "
        r"(?:dog|cat|pet|puppy|friend|friends|stuff|things|bike|toys))\b",
    ),
    (
        SafetyCategory.BULLYING,
        r"\b(?:kids|boys|girls|kid|boy|girl|they|big kids|older kids|classmates|everyone|people|"
        r"someone|somebody)\b.{0,40}\b(?:beat me up|beats me up|beat me|hit me|hits me|hitting me|"
        r"punch me|punches me|punched me|kick me|kicks me|kicked me|push me|pushes me|pushed me|"
        r"pushing me|trip me|trips me|tripped me|choke me|choked me|spit on me|spits on me|"
        r"steal my|stole my|take my (?:lunch|money|stuff)|takes my (?:lunch|money|stuff)|"
        r"took my (?:lunch|money))\b(?!.{0,30}\b(?:game|tag|pillow|by accident|accidentally|"
        r"playing|soccer|football|dodgeball)\b)",
    ),
    (SafetyCategory.BULLYING, r"\b(?:knife|gun) (?:at|to) school\b|\bbrought a (?:knife|gun)\b"),
    # Humiliation, rumours and mocking that keeps happening.
    (
        SafetyCategory.BULLYING,
        r"\b(?:put|puts|putting|shoved|shove|shoves|stuck|dunked|dunk|dunks|pushed|push|pushes|"
        r"held|holds|flushed|flush) (?:my (?:head|face)|me)\b (?:in|into|under|down) (?:the |a )?"
        r"(?:toilet|toilets|trash|trash can|garbage|garbage can|dumpster|locker)\b|"
        r"\b(?:swirly|swirlie|swirlies|wedgies?)\b|"
        r"\b(?:made|make|makes|making|started|start|starts|posted|posts|post|posting|sent|sends|"
        r"shared|spread|spreads|spreading|wrote|writes) (?:a |an |the )?(?:group chat|video|post|"
        r"page|website|rumou?rs?|lies|memes?|account|list) (?:about|of|making fun of) me\b|"
        r"\babout how (?:ugly|fat|stupid|dumb|weird|gross|smelly|disgusting|poor|bad|annoying) i am\b|"
        r"\b(?:everyone|everybody|all the kids|the whole class|they all|the other kids|kids|the "
        r"boys|the girls|they)\b.{0,10}\b(?:laughs?|laughing|make fun|makes fun|making fun|pick "
        r"on|picks on|picking on|call me names|calls me names|calling me names)\b(?: at| of| on)? "
        r"me\b.{0,30}\b(?:every day|everyday|all the time|always|every time|again|every single)\b|"
        r"\b(?:every day|everyday|all the time|always)\b.{0,30}\b(?:laugh at me|laughs at me|make "
        r"fun of me|makes fun of me|pick on me|picks on me|call me names|calls me names)\b",
    ),
    (
        SafetyCategory.BULLYING,
        r"\b(?:kids|boys|girls|they|everyone|everybody|the other kids|bullies|classmates)\b.{0,30}"
        r"\b(?:call|calls|calling|called) me (?:names|fat|ugly|stupid|dumb|a loser|loser|a baby|"
        r"gross|weird|smelly|a freak|freak|retarded|a retard)\b(?!.{0,20}\b(?:once|one time|as a "
        r"joke|joking)\b)|"
        r"\b(?:scared|afraid|don't want|do not want|won't|not going|refuse) (?:to )?(?:go )?(?:to )?"
        r"school\b.{0,20}\bbecause (?:of )?(?:the |a |some |those |these )?(?:kids?|boys?|girls?|"
        r"them|bull(?:y|ies)|big kids|older kids|\w+ graders)\b(?! (?:are|is) (?:sick|away))",
    ),
    (
        SafetyCategory.BULLYING,
        r"\b(?:throw|throws|threw|throwing) (?:rocks|stones|sticks) at me\b|"
        r"\b(?:they|kids|he|she|someone) "
        r"(?:keeps?|keep) (?:sending|texting) me (?:mean|scary|bad)\b",
    ),
    # Hurting the child: by other kids (school, bus, "they said") it's bullying, else abuse.
    (
        SafetyCategory.BULLYING,
        r"^(?=.*\b(?:school|kids?|classmates?|class|bus|recess|playground|boys?|girls?|bull(?:y|ies)|"
        r"teenagers?|everyone at|students?|team|they said|someone said|he said|she said|"
        r"messages|online)\b).*"
        r"\b(?:pinch(?:es|ed|ing)?|pull(?:s|ed|ing)? my (?:hair|ears?)|squeez\w* my "
        r"(?:neck|arm)|twist(?:s|ed)? my arm|throws? (?:things|stuff|shoes|plates|\w+) at me|"
        r"threw (?:things|stuff|shoes|plates|a \w+|\w+) at me|choke[sd]? me|beat me up|"
        r"grab(?:s|bed)? (?:me|my (?:arm|neck|hair)) (?:really |so )?hard)\b(?!.{0,30}\b(?:game|"
        r"tag|pillow|by accident|accidentally|playing|soccer|football|dodgeball|play fight)\b)",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:pinch(?:es|ed|ing)?|pull(?:s|ed|ing)? my (?:hair|ears?)|squeez\w* my "
        r"(?:neck|arm)|twist(?:s|ed)? my arm|throws? (?:things|stuff|shoes|plates|\w+) at me|"
        r"threw (?:things|stuff|shoes|plates|a \w+|\w+) at me|choke[sd]? me|beat me up|"
        r"grab(?:s|bed)? (?:me|my (?:arm|neck|hair)) (?:really |so )?hard)\b(?!.{0,30}\b(?:game|"
        r"tag|pillow|by accident|accidentally|playing|soccer|football|dodgeball|play fight)\b)",
    ),
    (
        SafetyCategory.ABUSE,
        r"\b(?:if i (?:tell|told|say)|if you tell|not to tell|don't tell)\b.{0,30}\b(?:hurt|kill|"
        r"hit|beat|punish|take away|go to jail)\b|\b(?:hurt|kill|hit|beat|punish)\b.{0,30}\bif i "
        r"(?:tell|told|say anything)\b",
    ),
    # ---- violence at home: a grown-up hurting another family member ----
    (
        SafetyCategory.VIOLENCE_AT_HOME,
        rf"\b(?:{_PARENT}|brother|sister|uncle|husband|grandpa|he|she)\b.{{0,25}}\b{_HIT}\b.{{0,15}}"
        r"\b(?:my |our |the )?(?:mom|mommy|mother|mum|mama|dad|daddy|father|papa|grandma|nana|"
        r"stepmom|stepdad|her|him)\b(?!'s)",
    ),
    (
        SafetyCategory.VIOLENCE_AT_HOME,
        rf"\b{_PARENT}\b.{{0,30}}\b(?:going to|gonna|will|'ll|said he'd|said she'd|wants to|"
        r"threatened to)\b.{0,10}\b(?:kill|hurt|shoot|stab) (?:my |our )?(?:mom|mommy|mother|dad|"
        r"daddy|father|her|him|us|everyone)\b",
    ),
    (
        SafetyCategory.VIOLENCE_AT_HOME,
        r"\b(?:screaming|yelling|fighting|shouting)\b.{0,50}\b(?:threw|throwing|throws|broke|"
        r"breaking|smash\w*|punch\w*|hit|hitting)\b(?: a| the| his| her| things| stuff| chairs?|"
        r" plates?| glass| bottles?| lamp| table| wall| door| tv| phone)\b",
    ),
    (SafetyCategory.VIOLENCE_AT_HOME, r"\b(?:police|cops) (?:came|come|are here|took my)\b"),
    # A fight the child hears or hides from: things breaking, hiding, a drunk grown-up.
    (
        SafetyCategory.VIOLENCE_AT_HOME,
        r"\b(?:screaming|yelling|fighting|shouting)\b.{0,60}\b(?:something|glass|things|stuff|"
        r"plates?|dishes|a plate|a glass|the door|the wall)\b (?:break|breaks|breaking|broke|"
        r"smash\w*|crash\w*|shatter\w*|bang\w*|slam\w*)\b|\b(?:heard|hear|hearing)\b.{0,15}"
        r"\b(?:something|glass|things|stuff|plates?|dishes) (?:break|breaking|broke|smash\w*|"
        r"crash\w*|shatter\w*)\b.{0,40}\b(?:screaming|yelling|fighting|shouting|crying|scared)\b|"
        r"\b(?:yelling|screaming|fighting|shouting|hitting|drunk)\b.{0,50}\b(?:i'm|i am|i was|we're|"
        r"we are|me and my (?:brother|sister)(?: are)?) hiding\b|\b(?:hiding|hid|hide) (?:in|under) (?:my|the) "
        r"(?:closet|bed|room|bathroom)\b.{0,40}\b(?:yelling|screaming|fighting|shouting|hitting|"
        r"hurting|drunk)\b|\b(?:mom|mommy|mother|dad|daddy|father|stepdad|step dad|boyfriend|he|"
        r"she) (?:is|was|gets|got|keeps getting) drunk\b.{0,40}\b(?:break\w*|broke|hit\w*|yell\w*|"
        r"scream\w*|throw\w*|threw|scary|scared|angry|mean|fight\w*|hurt\w*)\b",
    ),
    # ---- immediate danger ----
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:house|home|kitchen|room|bedroom|apartment|stove|oven|building|car|garage|toaster|"
        r"microwave|curtains?|bed|couch|pan|something|everything|it|hair|clothes|trash)\b"
        r"(?: is| are|'s)?(?: on| caught| catching)? (?:on )?fire\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\bthere(?:'s| is) (?:a )?fire\b(?! (?:truck|drill|fighter|station|place|pit|works|alarm drill))",
    ),
    (SafetyCategory.IMMEDIATE_DANGER, r"\bfire!|\bfire fire\b|\bhelp fire\b"),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:smell|smells|smelling|smelled) (?:like |of )?(?:smoke|gas|burning|fire|something "
        r"burning)\b(?!.{0,40}\b(?:campfire|fireplace|barbecue|bbq|candles?|marshmallows?|"
        r"station|grill|fireworks)\b)|\bthere(?:'s| "
        r"is) smoke\b|\bsmoke (?:is )?(?:coming|everywhere|in (?:the|my|our)|all over)\b|\bsmoke "
        r"alarm is going off\b|\b(?:lots of|so much|full of|black) smoke\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:won't|will not|wont|can't|cannot|doesn't|does not|didn't|isn't|is not|not|couldn't) "
        r"(?:wake|waking) up\b(?<!\bi can't wake up)(?<!\bi couldn't wake up)",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:isn't|is not|not|stopped|stop|can't|cannot|he can't|she can't) breathing\b|\bi "
        r"can't breathe\b|\b(?:he|she|they|baby|brother|sister|mom|dad|grandma|grandpa) can't "
        r"breathe\b|\b(?:mom|mommy|mother|dad|daddy|father|he|she|baby|brother|sister|grandma|"
        r"grandpa|nana|papa|someone|somebody|friend|they|grown ?up|teacher|babysitter)\b.{0,20}"
        r"\b(?:isn't|is not|not|stopped|won't stop|can't stop) (?:moving|shaking)\b|\bwon't (?:answer me|respond|move|wake)\b|"
        r"\b(?:fainted|passed out|collapsed|unconscious|having a seizure|seizure)\b|\b(?:choking|"
        r"is choking)\b(?! (?:hazard|on (?:my|his|her) (?:words|laughter)))",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:fell|fallen|fall)\b.{0,30}\b(?:can't get up|cannot get up|won't get up|not moving|"
        r"isn't moving|not talking|isn't talking|won't talk|hit (?:his|her|my|their) head|is "
        r"bleeding|blood|knocked out|broke)\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:drank|drink|drinking|ate|eaten|eat|eating|swallowed|swallow|swallowing|took|"
        r"licked|sniffed)\b.{0,30}\b(?:bleach|pills?|poison|poisonous|batter(?:y|ies)|button "
        r"batter(?:y|ies)|cleaner|cleaning stuff|chemicals?|under the sink|detergent|laundry pod|"
        r"tide pods?|magnets?|(?:lots|a lot|all|whole|entire|bottle|too many|too much|all the|"
        r"handful)\b.{0,20}\b(?:medicine|medicines|vitamins|gummies|pills|tablets)|"
        r"(?:mom's|dad's|grandma's|grandpa's) (?:medicine|pills)|medicine that isn't mine|"
        r"gasoline|antifreeze|rat poison|lighter fluid|mushrooms from the yard|cleaning (?:spray|"
        r"stuff|liquid|products?)|windex|lysol|perfume|nail polish remover|mouthwash|vape|"
        r"cigarettes?|paint thinner|dishwasher (?:soap|pods?)|pool chemicals|weed killer|bug "
        r"spray|rubbing alcohol|grown ?up drinks?|beer|wine|vodka)\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\bbleeding (?:a lot|really bad|really badly|so much|badly|everywhere|bad|and (?:it )?"
        r"won't stop)\b|\b(?:lots of|so much|a lot of|tons of) blood\b|\b(?:won't|can't|doesn't) "
        r"stop bleeding\b|\bblood everywhere\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:broke|broken|i think i broke) (?:my|his|her) (?:arm|leg|wrist|ankle|neck|back|"
        r"head)\b|\b(?:cracked|split) (?:my|his|her) head\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:stuck|locked|trapped|left) (?:in|inside) (?:the |a |my |our |mom's |dad's )?(?:car|"
        r"trunk|freezer|fridge|dryer|washing machine|hot car)\b|\b(?:car|it) is (?:really |so |too )?"
        r"hot and i can't get out\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:home alone|by myself|all alone|alone at home|alone in the house|i'm alone|i am "
        r"alone|nobody is home|no "
        r"one is home|no grown ?ups? (?:are )?home)\b.{0,60}\b(?:knock\w*|(?<!next )door|doorbell|banging|"
        r"window|outside|trying|coming in|inside|stranger|someone|somebody|man|scared|noise)\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:someone|somebody|a man|a person|a stranger|stranger|people)\b.{0,25}\b(?:trying "
        r"to (?:get|come|break) in|breaking in|broke in|is in (?:our|the|my) house|in (?:our|the|"
        r"my) house|banging on|is banging|keeps knocking|looking in (?:my|the) window)\b",
    ),
    (SafetyCategory.IMMEDIATE_DANGER, r"\bstranger in (?:our|the|my) (?:house|home|room|yard)\b"),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"(?<!\bif )(?<!\bwhen )\b(?:i'm|i am|i got|i'm really|we're|we are) lost\b|\bcan't find "
        r"(?:my )?(?:mom|dad|mommy|daddy|parents|grown ?up|grandma|grandpa|teacher)\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"(?<!nerf )(?<!water )(?<!toy )(?<!squirt )(?<!bb )(?<!glue )(?<!laser )\b(?:found|have|has|"
        r"got|holding|pointing|brought|playing with|touching) (?:a |his |her |my |the |their |"
        r"dad's |mom's )?(?:real )?(?:gun|pistol|rifle|shotgun)\b(?! (?:game|toy))|"
        r"\b(?:gun|pistol|rifle) in (?:my|his|her|the|our|dad's|mom's) (?:drawer|closet|room|bag|"
        r"backpack|car|house)\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:baby|brother|sister|someone|he|she|kid|my friend)\b.{0,15}\b(?:is|fell|went) "
        r"(?:in|into) the (?:pool|water|lake|river|pond|bathtub)\b|\bdrowning\b|\bunder the water "
        r"and (?:not|isn't|won't)\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\bcall (?:911|nine one one|9 1 1|an ambulance|the police|the fire department)\b|"
        r"\b(?:somebody|someone) help\b|\bhelp me please\b|\bplease help me\b|\bhelp help\b|"
        r"\bemergency\b(?! (?:room visit|vehicle|vehicles|exit))",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:dog|snake|spider) bit (?:me|my|him|her)\b.{0,30}\b(?:blood|bleeding|swell|hurts "
        r"bad|poison)\b|\bsnake bit\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:baby|he|she|brother|sister|lips|face|skin|mom|dad|mommy|daddy|grandma|grandpa)\b"
        r".{0,12}\b(?:turned|turning|went|going|looks|is getting) (?:all )?blue\b|"
        r"\blips are blue\b|\b(?:not|isn't|won't|can't|stopped) (?:answering|responding)(?: me)?\b|"
        r"\b(?:stove|oven|pan|toaster|microwave|it)\b.{0,40}\b(?:smoking|on fire|burning|flames)\b|"
        r"\b(?:trying to|tried to) (?:open|get in|break|kick) (?:our|the|my) (?:door|window|house)\b|"
        r"\b(?:nobody|no one|no grown ?up) is home\b.{0,40}\b(?:door|knock|someone|somebody|man|"
        r"stranger|window|outside)\b|\b(?:someone|somebody|a man|stranger)\b.{0,40}\b(?:nobody|no "
        r"one|no grown ?up) is home\b",
    ),
    # A grown-up down and not responding, a medical emergency, an injury from outside.
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:swallowed|swallow|swallowing) (?:a |the |some |my |his |her )?(?:coins?|penny|"
        r"pennies|marbles?|legos?|lego pieces?|beads?|nails?|pins?|tacks?|screws?)\b|"
        r"\b(?:mom|mommy|mother|mum|mama|dad|daddy|father|papa|he|she|baby|brother|sister|grandma|"
        r"grandpa|nana|someone|somebody|babysitter|grown ?up|my friend)\b.{0,30}\b(?:on the floor|"
        r"on the ground|fell|fallen|collapsed|in the bath|in the bathtub)\b.{0,40}"
        r"\b(?:isn't|is not|not|won't|can't|doesn't|does not|stopped) (?:talking|talk|moving|move|"
        r"answering|answer|responding|waking|getting up|get up|opening (?:her|his|their) eyes|open "
        r"(?:her|his|their) eyes|saying anything)\b(?!.{0,30}\b(?:sleeping|asleep|napping|resting|watching|reading|on (?:her|his) phone|tired|mad at|busy|playing|game)\b)|\b(?:won't|can't|isn't|doesn't|will not) "
        r"(?:open|opening) (?:her|his|their) eyes\b|\b(?:holding|grabbing|clutching) (?:his|her) "
        r"chest\b|\ballergic reaction\b|\b(?:throat|face|lips|tongue) (?:is |are )?(?:closing|"
        r"swelling|swelled|swollen|puffing)\b|\belectrocut\w*|\b(?:got|get|getting) (?:a )?shock(?:ed)? "
        r"(?:by|from) (?:the |an )?(?:outlet|socket|plug|wire)\b|\b(?:fork|knife|key|paper clip) in "
        r"(?:the |an )?(?:outlet|socket|plug|toaster)\b|\b(?:car|truck|bus|bike|motorcycle) (?:hit|ran "
        r"over|runs over|knocked down) (?:me|my \w+|him|her)\b|\b(?:got|get|was|been) (?:hit|run "
        r"over) by a (?:car|truck|bus)\b|\b(?:dog|dogs) (?:is |are )?(?:attacking|biting|bit|attacked)"
        r" (?:me|my|him|her|us)\b.{0,30}\b(?:bleeding|blood|won't stop|help|hurts)\b|\b(?:a man|a "
        r"stranger|someone|somebody|a person|a guy) (?:is |was )?(?:outside|looking (?:in|into|"
        r"through)|at|tapping on|knocking on) (?:my|our) (?:bedroom )?window\b|\bcan't find (?:my|"
        r"the) way (?:home|back)\b|\b(?:stove|oven|gas) (?:is )?(?:on|still on)\b.{0,30}\bcan't "
        r"turn (?:it )?off\b",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:mom|mommy|mother|dad|daddy|father|he|she|baby|brother|sister|grandma|grandpa|"
        r"friend|dog|cat|puppy|pet)\b(?:'s| is| are| keeps| started)? bleeding\b(?! a little| a "
        r"tiny bit| a bit)",
    ),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:stuck|trapped) (?:in|under|inside) (?:the |a )?(?:pool|water|lake|river|pond|well|"
        r"drain|mud|ice|hole|dryer|fridge|freezer|trunk|chimney|elevator|fence)\b|\bcan't get out\b"
        r".{0,30}\b(?:pool|water|lake|car|trunk|dryer|fridge|freezer|closet|box|hole|room)\b|"
        r"\b(?:pool|water|lake|car|trunk|dryer|fridge|freezer)\b.{0,30}\bcan't get out\b",
    ),
    # ---- running away ----
    (
        SafetyCategory.RUNNING_AWAY,
        r"\b(?:i'm|i am|i'll|i will|i want to|i'm going to|i'm gonna|i'm thinking about|thinking "
        r"of|i might|i should|how do i|how can i|i need to|i have to|i'm about to|i wanna|help me|"
        r"i decided to|i'm ready to|i'm gonna go)\b.{0,10}\b(?:run away|running away|runaway|"
        r"leave home|leaving home|sneak out|leave forever|leaving forever|move out|never come "
        r"back|never coming back|live on my own|live somewhere else|live on the street)\b",
    ),
    (
        SafetyCategory.RUNNING_AWAY,
        r"\b(?:packed|packing) (?:my|a) (?:bag|bags|stuff|suitcase|backpack|things|clothes|snacks|"
        r"teddy|stuffies|blanket)\b.{0,40}"
        r"\b(?:leav\w*|run\w*|never|tonight|go away|away|somewhere else|forever)\b|\b(?:i'm|i am) "
        r"leaving (?:tonight|forever|and|for good|this house|home)\b|\bgoing to live somewhere "
        r"else\b",
    ),
    # Planning to be gone: unnoticed, at night, alone to somewhere far, living outdoors.
    (
        SafetyCategory.RUNNING_AWAY,
        r"\b(?:notices?|noticed|finds? out|found out|realizes?|realized|knows?)\b (?:that )?(?:i'm|"
        r"i am|i was|i've been|i'd be) (?:gone|missing|not (?:here|home|in (?:my )?bed|in my room))\b|"
        r"\bsneak(?:ing)? out\b.{0,30}\b(?:at night|tonight|of the house|of my house|window|where "
        r"(?:can|could|should|will|would) i|and (?:go|leave|run|never))\b|\bif i (?:sneak out|run "
        r"away|ran away|leave home|left home|left|leave)\b.{0,30}\bwhere (?:can|could|should|will|"
        r"would|do) i (?:sleep|live|stay|go|eat)\b|\bwhere (?:can|could|should|would|do) i (?:sleep|"
        r"live|stay)\b.{0,20}\b(?:if i (?:run|leave|left|ran|sneak)|by myself|on my own|without "
        r"(?:my )?(?:mom|dad|parents|anyone))\b|"
        r"\b(?:nobody|no one) (?:will|is going to|can|would) (?:ever )?find me (?:where i'm going|"
        r"when i'm gone|when i leave|ever again|again)\b",
    ),
    (
        SafetyCategory.RUNNING_AWAY,
        r"\b(?:bus|train|taxi|uber|plane|subway|walk|ride my bike|hitchhike)\b.{0,40}\b(?:by "
        r"myself|alone|on my own)\b.{0,30}\b(?:another|a different|other|far away|a new) (?:city|"
        r"town|state|country|place|family)\b|\b(?:by myself|alone|on my own)\b.{0,40}\bto "
        r"(?:another|a different|a new|other) (?:city|town|state|country|family)\b|\b(?:go|move|"
        r"live|get) (?:to )?(?:another|a different|a new) (?:city|town|state|country|family)\b.{0,30}"
        r"\b(?:by myself|alone|on my own|without (?:my )?(?:mom|dad|parents|family|anyone))\b",
    ),
    (
        SafetyCategory.RUNNING_AWAY,
        r"^(?!.*\b(?:when i grow up|when i'm (?:big|older|a grown ?up)|someday|tent|camping|camp|"
        r"campout|picnic|sleepover)\b)(?=.*\bi\b).*\b(?:live|living|sleep|sleeping) (?:in|at|on|"
        r"under) (?:the |a )?(?:woods|forest|park|street|streets|bushes|alley|bridge|bus station|"
        r"train station|playground)\b|"
        r"\b(?:hiding|hid|hide)\b.{0,50}\b(?:not|never|won't|don't want to) (?:go|going|come|coming)"
        r" (?:back )?home\b|\b(?:not|never|won't) (?:go|going|come|coming) (?:back )?home (?:ever|ever "
        r"again|again|anymore|any more|forever)\b|\b(?:hiding|hid) (?:in|at|under|behind) (?:the |a )?"
        r"(?:woods|forest|park|bushes|street|alley)\b",
    ),
    (
        SafetyCategory.RUNNING_AWAY,
        r"\brun away from (?:home|here|my family|my house|mom|dad)\b(?<!people run away from home)",
    ),
    (
        SafetyCategory.RUNNING_AWAY,
        r"\b(?:i'm|i am|i'll|i will|i want to|i'm going to|i'm gonna|going to|gonna)\b.{0,12}\b"
        r"(?:leave|go) (?:and )?(?:go )?(?:live|stay) (?:with|at|somewhere)\b|"
        r"\b(?:pack|packing|packed) (?:my|a) (?:bag|bags|stuff|suitcase|backpack|things) and "
        r"(?:go|leave|run)\b|\bnever (?:come|coming|go|going) (?:back )?home\b|"
        r"\b(?:climb|sneak|go|jump) out (?:of )?(?:my|the) window\b.{0,30}\b(?:tonight|and leave|and "
        r"run|and go|forever|never)\b|\b(?:don't|do not) want to live (?:here|with (?:my|them|him|"
        r"her|mom|dad)|in this (?:house|family)|at home)(?: anymore)?\b",
    ),
    (
        SafetyCategory.RUNNING_AWAY,
        r"\b(?:i'm|i am|i'll|i will|i'm going to|i'm gonna|gonna|going to|i want to)\b.{0,50}\b(?:and "
        r"never come back|and never coming back|and not come back|and never come home|and never go "
        r"home|and never see (?:them|you|my family) again)\b|\b(?:i'm|i am) running away\b",
    ),
)

_COMPILED: Final = tuple((category, re.compile(pattern)) for category, pattern in _PATTERNS)

# A wider net, tried only when no specific pattern matched: the same kinds of harm in words
# the patterns above never saw. Recall comes first; the guards below keep ordinary turns out.
_HARM_STEM = (
    r"(?:punch|hit|beat|kick|hurt|slap|chok|stab|shoot|shot|push|shov|bite|bit|burn|pinch|smack|"
    r"whip|strangl|scratch|slam|drag|throw|threw|trip|attack|spank)"
)
_BROAD_PATTERNS: Final[tuple[tuple[SafetyCategory, str], ...]] = (
    (
        SafetyCategory.SELF_HARM,
        r"\bi\b(?:'m|'d| am| was| would| will| could| just| really| kind of)?(?:[^.]{0,30})\b"
        r"(?:die|dying|dead|death|kill|killing|suicide|suicidal|not exist|not be here|not be alive)"
        r"\b",
    ),
    (
        SafetyCategory.BULLYING,
        rf"^(?=.*\b(?:school|kids?|classmates?|class|bus|recess|playground|boys?|girls?|bull(?:y|"
        rf"ies)|teenagers?|students?|team)\b).*\b{_HARM_STEM}\w* (?:me|my)\b",
    ),
    (SafetyCategory.ABUSE, rf"\b{_HARM_STEM}\w* me\b"),
    (
        SafetyCategory.IMMEDIATE_DANGER,
        r"\b(?:break(?:ing)? in\b(?! (?:the|my|our|half|two|pieces))|break(?:ing)? into|broke "
        r"in(?:to)?|burglar|robber|robbers|intruder|"
        r"(?:someone|somebody|a man|a person|people) (?:is|are) in (?:our|the|my) (?:house|home|"
        r"room|garage|basement))\b",
    ),
)
_BROAD_COMPILED: Final = tuple(
    (category, re.compile(pattern)) for category, pattern in _BROAD_PATTERNS
)
# Ordinary talk that uses the broad net's words: idioms and qualifiers, judged where they touch
# the match ("dying laughing", "hit me by accident", "pushed me to try")...
_BENIGN_QUALIFIER = re.compile(
    r"\b(?:dying to|die laughing|died laughing|dying laughing|laughing|lol|haha|dead tired|"
    r"to death|dead battery|battery (?:is |was )?dead|dead end|deadline|kill(?:ed|ing)? it|"
    r"killing me|scared of (?:dying|death|dead)|afraid of (?:dying|death)|worried about dying|"
    r"don't want to die|do not want to die|never want to die|when i die|if i die|"
    r"what happens|how many|accident|accidentally|by mistake|tickl\w*|hug\w*|happiness|die for|"
    r"joke|joking|when i'm old|when i get old|for fun|on purpose to be funny|could just die|"
    r"could die|a little|a bit|pushed me to|push me to|pushes me to|in a race|in (?:the|a|my) "
    r"(?:game|story|movie|show|book)|at (?:checkers|chess|cards|uno|tag|a game))\b"
)
# ...and what did the hurting, judged just before the verb ("my dog bit me", "in minecraft
# the zombie killed me").
_BENIGN_AGENT = re.compile(
    r"\b(?:pretend|games?|minecraft|fortnite|roblox|videos?|movies?|story|stories|books?|shows?|"
    r"characters?|zombies?|ghosts?|monsters?|dinosaurs?|plants?|fish|bug|bugs|spider|ant|ants|"
    r"flowers?|tag|pillow|dodgeball|soccer|football|basketball|baseball|hockey|wrestl\w*|karate|"
    r"ball|cat|cats|dog|dogs|puppy|kitten|hamster|bird|bunny|pet|horse|bee|bees|mosquito|snake|"
    r"level|boss|water gun|nerf|squirt|toy|race|swing|wind|dentist|doctor|nurse|vaccine)\b"
)


# Where a benign word must sit to speak for a broad match: the thing doing the hurting comes
# before the verb ("my dog bit me", "at tag he pushed me"), the qualifier right after it ("hit
# me by accident"). A benign word elsewhere in the turn says nothing: "he kicks me and my dog
# every night" is a disclosure, whatever else the dog does.
_BENIGN_BEFORE_CHARS: Final = 30
_BENIGN_AFTER_CHARS: Final = 22


def _broad_match(text: str) -> SafetyCategory | None:
    for category, pattern in _BROAD_COMPILED:
        for found in pattern.finditer(text):
            start = max(0, found.start() - _BENIGN_BEFORE_CHARS)
            before = text[start : found.start()]
            window = text[start : found.end() + _BENIGN_AFTER_CHARS]
            if _BENIGN_AGENT.search(before) or _BENIGN_QUALIFIER.search(window):
                continue
            if _sibling_squabble(text, category):
                return None
            return category
    return None


# Make-believe and game talk: the danger is not real for these categories.
_FICTION = re.compile(
    r"\b(?:story|stories|pretend|pretending|let's play|lets play|play (?:a game|pretend|house|"
    r"tag|hide)|hide and seek|in (?:my|the|a) (?:game|movie|book|show|cartoon|dream|video|story)|"
    r"minecraft|fortnite|roblox|video game|once upon a time|make believe|imagine|what if|"
    r"song|poem|joke|movie|cartoon)\b"
)
_FICTION_GUARDED: Final = frozenset(
    {SafetyCategory.IMMEDIATE_DANGER, SafetyCategory.RUNNING_AWAY, SafetyCategory.VIOLENCE_AT_HOME}
)
# Hypothetical and factual questions ("what should you do if there's a fire").
_HYPOTHETICAL = re.compile(
    r"^(?:what|how|why|when|where|who|which|can|do|does|is|are)\b.{0,40}\b(?:if|when|should|do "
    r"people|does a|do you|happens)\b|^(?:what|why) (?:is|are|do|does)\b"
)
_HYPOTHETICAL_GUARDED: Final = frozenset(
    {SafetyCategory.IMMEDIATE_DANGER, SafetyCategory.RUNNING_AWAY}
)
# "where can i sleep if i leave home" is a plan, not a what-if: running away asked about oneself.
_OWN_PLAN = re.compile(r"\b(?:can|could|should|will|do) i\b.{0,30}\bif i\b")
# A lone word to spell ("how do you spell kill") is a spelling request, not a disclosure.
_SPELL_ONE_WORD = re.compile(
    r"^(?:how (?:do|can) (?:you|i) (?:spell|write)|can you spell|spell|how is|what's the spelling "
    r"of) (?:the word )?[a-z']+(?: spelled)?(?: please)?$"
)
_SPELL_REQUEST = re.compile(
    r"\b(?:how (?:do|can|would|should) (?:you|i|we) (?:spell|write)|(?:can|could) you (?:help me )?"
    r"spell|how to spell|how is|what's the spelling of|whats the spelling of|the spelling of)"
    r"(?: the word)? [a-z']+(?: spelled)?\b"
)
# Blip (or Claude) asked a safety question; a "yes" answers it.
_SAFETY_QUESTIONS: Final[tuple[tuple[re.Pattern[str], SafetyCategory], ...]] = (
    (
        re.compile(
            r"\b(?:hurt(?:ing)? yourself|kill(?:ing)? yourself|want to die|thoughts of "
            r"dying|end your life|suicid\w*|wish you (?:were|weren't))\b"
        ),
        SafetyCategory.SELF_HARM,
    ),
    (
        re.compile(
            r"\b(?:someone|anyone|somebody|a grown ?up|an adult) (?:is )?(?:hurting|"
            r"touching|touched|hurt) you\b|\bdoes (?:he|she|someone) hurt you\b"
        ),
        SafetyCategory.ABUSE,
    ),
    (
        re.compile(r"\bare you (?:safe|okay right now|hurt|alone|bleeding)\b"),
        SafetyCategory.IMMEDIATE_DANGER,
    ),
)
_AFFIRMATIVE = re.compile(
    r"^(?:yes|yeah|yep|yup|uh huh|mhm|mm hmm|i think so|sometimes|kind of|kinda|maybe|a little|"
    r"a lot|he does|she does|they do|i am|i do|no i'm not safe|not really)\b"
)
_UNSAFE_ANSWER_TO_ARE_YOU_SAFE = re.compile(r"^(?:no|nope|not really|i don't think so|i'm not)\b")


# Brothers and sisters squabble: "my brother hit me" alone is not an alert, but repeated,
# injuring or frightening hurt is, and anything sexual always is.
_SIBLING = re.compile(
    r"\bmy (?:big |little |older |younger |baby |twin |step ?)?(?:brother|sister|bro|sis|siblings?)\b"
)
_OTHER_PERSON = re.compile(
    rf"\b(?:{_CARER}|kids?|boys?|girls?|classmates?|bully|they|man|lady|stranger|someone|"
    r"somebody|friends?)\b"
)
_SEVERE = re.compile(
    r"\b(?:every day|everyday|all the time|always|every night|bleed\w*|blood|bruises?|really "
    r"hard|so hard|scared|afraid|won't stop|doesn't stop|can't breathe|chok\w*|knife|belt|stick|"
    r"bat|gun|hospital|broke|private|naked|clothes|touch(?:es|ed|ing)? me|secret|locks? me)\b"
)


def _sibling_squabble(text: str, category: SafetyCategory) -> bool:
    if category not in (SafetyCategory.ABUSE, SafetyCategory.BULLYING):
        return False
    if not _SIBLING.search(text) or _SEVERE.search(text):
        return False
    without_siblings = _SIBLING.sub(" ", text)
    return not _OTHER_PERSON.search(without_siblings)


# "Mom will kill me if I don't clean my room": an idiom, unless it's about telling.
_IDIOM_THREAT = re.compile(
    r"\b(?:mom|mommy|mother|dad|daddy|father|parents?|teacher|grandma|grandpa|she|he)\b.{0,30}"
    r"\bkill (?:me|us)\b.{0,12}\b(?:if i (?:don't|do not|didn't|forget|lose|break|get)|when (?:she|he|"
    r"they) (?:sees|see|finds|find|gets|get|hears|hear)|lol|haha|jk)\b"
)


# Fear of dying ("I'm scared I'm going to die when I'm old") is a feeling, not a plan.
_FEAR_OF_DYING = re.compile(
    r"\b(?:scared|afraid|worried|nervous|frightened|terrified)\b.{0,25}\b(?:die|dying|death|dead)\b"
)
_INTENT_TO_DIE = re.compile(
    r"\b(?:want to|wanna|wish|going to kill|kill myself|hurt myself|end it|better off|disappear)\b"
)


# Exaggeration ("I'm gonna die if I fail this math test", "I'd literally die"): a precise
# pattern that fires on it is softened, and the learned layer decides.
_EXAGGERATION = re.compile(
    r"\b(?:die|dying|dead|kill (?:me|myself)|killing me)\b.{0,12}\b(?:if (?:i|we|my|she|he|"
    r"they|you) (?:fail|lose|don't|do not|can't|cannot|have to|get|miss|eat|see|forget|mess|"
    r"flunk)|of (?:embarrassment|boredom|laughter|laughing|shame|cuteness|hunger)|from "
    r"(?:boredom|embarrassment)|before (?:the|my) (?:test|quiz|recital|game))\b|"
    r"\b(?:so|too) (?:bored|hungry|tired|embarrassed|full|excited)\b.{0,15}\b(?:die|dead|dying)\b|"
    r"\bi'?d (?:literally |actually )?die (?:if|of|for)\b|\b(?:test|quiz|exam|homework|recital|"
    r"spelling bee)\b.{0,25}\b(?:die|dead|kill (?:me|myself))\b(?! (?:for real|really|on purpose))"
)


@lru_cache(maxsize=2048)
def _match(text: str) -> tuple[SafetyCategory, bool] | None:
    """The category a turn's words match, and whether a precise pattern matched it."""
    # Cached: each turn comes back as history on the next turns.
    if _SPELL_ONE_WORD.match(text):
        return None
    fiction = bool(_FICTION.search(text))
    hypothetical = bool(_HYPOTHETICAL.search(text))
    for category, pattern in _COMPILED:
        if not pattern.search(text):
            continue
        if fiction and category in _FICTION_GUARDED:
            continue
        if (
            hypothetical
            and category in _HYPOTHETICAL_GUARDED
            and not (category is SafetyCategory.RUNNING_AWAY and _OWN_PLAN.search(text))
        ):
            continue
        if _sibling_squabble(text, category):
            continue
        if _IDIOM_THREAT.search(text) and "tell" not in text:
            continue
        if (
            category is SafetyCategory.SELF_HARM
            and _FEAR_OF_DYING.search(text)
            and not _INTENT_TO_DIE.search(text)
        ):
            continue
        return category, not (category is SafetyCategory.SELF_HARM and _EXAGGERATION.search(text))
    category = _broad_match(text)
    if category is None:
        return None
    if (fiction and category in _FICTION_GUARDED) or (
        hypothetical and category in _HYPOTHETICAL_GUARDED
    ):
        return None
    return category, False


_FOLLOW_UP_MAX_WORDS: Final = 15

# Names Whisper splits or mishears ("rob locks" for Roblox, "privets"), respelled the way the
# patterns write them.
_STT_RESPELLINGS: Final[dict[str, str]] = {
    "roblox": r"rob ?(?:lox|locks|blocks)|row ?blocks",
    "minecraft": r"mine craft|mind craft",
    "fortnite": r"fort ?night|fort nite",
    "tiktok": r"tick ?tock|tik tok|tic ?toc",
    "snapchat": r"snap chat",
    "youtube": r"you tube",
    "privates": r"privets?|private's",
    "suicide": r"sue ?(?:a )?side|sewer side",
}
_STT_MISHEARD = re.compile(
    r"\b(?:"
    + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _STT_RESPELLINGS.items())
    + r")\b"
)


# Euphemisms and misspellings children and STT use for the words the patterns are written
# with: "unalive", "kms", "kil". One changed word must not flip a verdict.
_EUPHEMISMS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\bunaliv(?:e|ing|ed)? ?(?:my ?self|me)\b"), "kill myself"),
    (
        re.compile(r"\b(?:to|gonna|going to|wanna|will|i'll|should|might) unalive\b"),
        "to kill myself",
    ),
    (re.compile(r"\bunaliving\b"), "killing myself"),
    (re.compile(r"\bkms\b"), "kill myself"),
    (re.compile(r"\b(?:kil|kll|kiil|kil{3,})(?=\b|s\b)"), "kill"),
    (re.compile(r"\bmy ?slef\b|\bmyslef\b|\bmysef\b"), "myself"),
    # STT splits "away" and drops a letter: "im runing a way tonite".
    (re.compile(r"\b(?:running|runing|runnin) a way\b"), "running away"),
    (re.compile(r"\b(?:run|ran) a way\b(?! (?:to|of|for|out|in|that|with))"), "run away"),
    (re.compile(r"\btonite\b"), "tonight"),
)
# Words that change no meaning but break a pattern's word order ("i just want to ever die").
_FILLERS = re.compile(
    r"\b(?:just|ever|really|actually|literally|honestly|totally|seriously|even|um+|uh+|"
    r"kinda|sorta|like really) "
)


def _respell(text: str) -> str:
    text = _STT_MISHEARD.sub(lambda found: str(found.lastgroup), text)
    for pattern, replacement in _EUPHEMISMS:
        text = pattern.sub(replacement, text)
    return text


def _safety_text(text: str) -> str:
    return _respell(normalise_utterance(text))


def _match_any(text: str) -> tuple[SafetyCategory, bool] | None:
    """Match the words as said, then without filler words: the stronger match wins."""
    found = _match(text)
    if found is not None and found[1]:
        return found
    plain = _FILLERS.sub("", text)
    if plain != text:
        stripped = _match(plain)
        if stripped is not None and (found is None or stripped[1]):
            return stripped
    return found


def clear_safety_cache() -> None:
    """Forget memoised matches (benchmarks time cold turns)."""
    _match.cache_clear()


def _finding(category: SafetyCategory) -> SafetyFinding:
    return SafetyFinding(category, category in DESIGNATED_ADULT_ONLY)


@dataclass(frozen=True)
class RuleMatch:
    """What the rules found in a turn, before the learned layer has its say."""

    category: SafetyCategory
    # True for a precise pattern (an alert on its own); False for the broad net, an
    # exaggeration-softened pattern or a match that needed the earlier turns joined.
    precise: bool
    # True when the match needed the earlier turns (an answer to Blip's question, two turns
    # joined): the learned layer, which reads the whole exchange, weighs it when loaded.
    from_history: bool = False


def match_rules(text: str, history: Sequence[HistoryTurn] = ()) -> RuleMatch | None:
    """The rules' reading of a turn (with its history), or None when nothing matched.

    Looks at the turn itself, at the turn joined to the child's previous turn (a disclosure
    split over two turns: "there's a man in my game" / "he wants my address"), and at a short
    answer to a safety question Blip just asked ("Are you thinking about hurting yourself?" /
    "yes").
    """
    if not isinstance(text, str) or not text.strip():
        return None
    if _SPELL_ONE_WORD.match(normalise_utterance(text)):
        return None
    # The word a child asks to spell is mentioned, not meant ("how do you spell suicide, it's
    # on our health vocab sheet"); the rest of the turn is still read ("how do you spell help,
    # my dad hits me"), and the learned layer reads all of it.
    normalised = _SPELL_REQUEST.sub(" ", _safety_text(text)).strip()
    found = _match_any(normalised)
    if found is not None and found[1]:
        return RuleMatch(*found)
    if history:
        answer = _answer_to_safety_question(normalised, history)
        if answer is not None:
            return RuleMatch(answer, True, from_history=True)
        joined = _joined_with_previous(normalised, history)
        if joined is not None:
            return RuleMatch(joined, True, from_history=True)
    return RuleMatch(*found) if found is not None else None


def _answer_to_safety_question(
    normalised: str, history: Sequence[HistoryTurn]
) -> SafetyCategory | None:
    last_assistant = next((t.text for t in reversed(history) if t.role == "assistant"), None)
    if last_assistant is None or len(normalised.split()) > 6:
        return None
    asked = normalise_utterance(last_assistant)
    for question, asked_category in _SAFETY_QUESTIONS:
        if not question.search(asked):
            continue
        if asked_category is SafetyCategory.IMMEDIATE_DANGER and "safe" in asked:
            if _UNSAFE_ANSWER_TO_ARE_YOU_SAFE.match(normalised):
                return asked_category
        elif _AFFIRMATIVE.match(normalised):
            return asked_category
    return None


def _joined_with_previous(normalised: str, history: Sequence[HistoryTurn]) -> SafetyCategory | None:
    previous_user = next((t.text for t in reversed(history) if t.role == "user"), None)
    # A second half of a disclosure is short ("he wants my address"); long turns stand alone.
    if previous_user is None or len(normalised.split()) > _FOLLOW_UP_MAX_WORDS:
        return None
    previous = _safety_text(previous_user)
    # Only a precise match that needs both turns counts; the earlier turn was already handled.
    earlier = _match_any(previous)
    if earlier is not None and earlier[1]:
        return None
    combined = _match_any(f"{previous} {normalised}")
    if combined is not None and combined[1]:
        return combined[0]
    return None


# An injury at sport, already seen to ("broke my arm at soccer and now i have a cast"): less
# certain than a fresh one. Judged only for weighing a precise match, never in the broad net
# (where "the kids at recess punch me" must stay a disclosure).
_SPORT_OR_TREATED = re.compile(
    r"\b(?:at|in|during|playing|from) (?:soccer|football|basketball|baseball|hockey|softball|"
    r"gym|practice|karate|gymnastics|ballet|dodgeball|the game|my game|the match|volleyball|"
    r"rugby|lacrosse|skating|trampoline)\b|\b(?:a|my|the) cast\b|\bstitches\b|"
    r"\bband ?aid\b|\bcoach gave\b"
)


# "it wasn't an accident", "not by accident", "i'm not joking": the qualifier denied, which
# makes the disclosure more certain, not less (blind set 10: "not by accident. he pushed me
# down the stairs" was weighed as an accident and answered by the local model).
_NEGATED_QUALIFIER = re.compile(
    r"\b(?:not|wasn't|wasnt|was not|isn't|isnt|weren't|werent|never|no|i'm not|im not)\s+"
    r"(?:even |really |just )?(?:by |an |a |on )?(?:accident(?:al|ally)?|by mistake|mistake|"
    r"joke|joking|kidding|for fun|lol)\b"
)


def benign_context(text: str) -> bool:
    """True when a turn also says it was an accident, a joke or play ("by accident lol",
    "haha", "in the game"), or an injury at sport already seen to: words that make a precise
    pattern less certain. Not the benign subjects (a dog, minecraft), which sit beside real
    disclosures ("he punches me and then we play minecraft"). Never a veto: the learned layer
    then weighs the whole turn."""
    said = _NEGATED_QUALIFIER.sub(" ", _safety_text(text))
    return bool(_BENIGN_QUALIFIER.search(said) or _SPORT_OR_TREATED.search(said))


# The child denies the harm a precise pattern matched, in the first person ("no i don't want to
# hurt myself, i'm just sad", "i'm not gonna run away"): the commonest reassuring answer to
# Blip's check-in, which repeats its words. Never a veto: the learned layer weighs the turn.
_DENIAL = re.compile(
    r"\b(?:i|i'm|im|i am)\b (?:(?:really |just )?(?:don't|dont|do not|didn't|didnt|would never|"
    r"wouldn't|wouldnt|will never|won't|wont|never|not)) (?:ever )?(?:(?:want|wanna|going|gonna|"
    r"trying|thinking about|think about|plan|planning)(?: to)? )?(?:hurt(?:ing)? myself|"
    r"kill(?:ing)? myself|cut(?:ting)? myself|run(?:ning)? away)\b"
)


def denies_harm(text: str) -> bool:
    """True when the turn denies, in the first person, hurting oneself or running away."""
    return bool(_DENIAL.search(_safety_text(text)))


def treated_injury(text: str) -> bool:
    """True for an injury at sport or already seen to ("broke my arm at soccer, now i have a
    cast"): the learned layer must find the turn worrying on its own to alert."""
    return bool(_SPORT_OR_TREATED.search(_safety_text(text)))


def is_exaggeration(text: str) -> bool:
    """True for "I'm gonna die if I fail this test": dying as a figure of speech.

    Where the exaggeration is, is not read here; to soften a rule match, use
    ``exaggeration_explains_match``."""
    return bool(_EXAGGERATION.search(_safety_text(text)))


# Where one thing said ends and the next begins, for judging a qualifier where it is said.
_CLAUSE_BREAK = re.compile(r"[,.;!?]+|\b(?:and then|but|also|plus|because|cause|cuz|and)\b")


def exaggeration_explains_match(text: str) -> bool:
    """True when every part of the turn the rules match is itself an exaggeration ("i'm gonna
    die if i fail this test"), not when one sits beside another worry ("i'd die if i fail
    lol and also i want to die for real"): a figure of speech softens only the words it is
    part of. A match that needs the whole turn is judged on the whole turn."""
    said = _safety_text(text)
    if not _EXAGGERATION.search(said):
        return False
    clauses = [c.strip() for c in _CLAUSE_BREAK.split(said) if c.strip()]
    matched = [c for c in clauses if _match_any(c) is not None]
    if not matched:
        return True
    return all(_EXAGGERATION.search(c) for c in matched)


def check_safety(text: str, history: Sequence[HistoryTurn] = ()) -> SafetyFinding | None:
    """The rules alone: a finding for any rule match except a softened exaggeration.

    The full on-box check (rules, learned layer and context together) is
    ``safety_detector.SafetyDetector``; this is what remains when the model cannot load.
    """
    found = match_rules(text, history)
    if found is None:
        return None
    if not found.precise and exaggeration_explains_match(text):
        return None
    return _finding(found.category)
