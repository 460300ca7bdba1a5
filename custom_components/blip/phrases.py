"""Fixed phrases Blip speaks: fillers, greetings and drill prompts.

This is the single phrase list. Blip voice pre-synthesizes it inside Home Assistant, and the
project's Wyoming TTS server ships the same list (``wyoming_servers/tts/phrases.txt``, checked
against this module by a test) so that these sentences are served from a cache with no synthesis.

Every filler is longer than 60 characters and made of complete sentences ending in a space:
Home Assistant starts streaming TTS only once the assistant text passes 60 characters, and
piper releases a sentence only once it is followed by whitespace.

No Home Assistant import here: the drill engine and the tests use it directly.
"""

from __future__ import annotations

from typing import Final

# Fillers for slow routes, by mood. "calm" is for emotional and safety turns: no "great question".
FILLERS_CHEERFUL: Final[tuple[str, ...]] = (
    "Hmm, let me think about that. Ooh, that's a really great question! ",
    "Ooh, good one! Let me put on my thinking cap for just a second. ",
    "Hmm, let me think. I really love questions like this one, you know! ",
    "Great question! Give me a little moment to think it all the way through. ",
)
FILLERS_CREATIVE: Final[tuple[str, ...]] = (
    "Ooh, I love making things up! Let me get my imagination going. ",
    "Okay, let me dream something up just for you. This will be so much fun! ",
    "A story? Yes please! Let me think of a really good way to begin. ",
)
FILLERS_CALM: Final[tuple[str, ...]] = (
    "Thank you for telling me. I'm right here, and I'm listening. ",
    "I hear you, and I'm glad you told me. Let me think about the best way to help. ",
    "Thanks for sharing that with me. Let's talk about it together. ",
)

GREETINGS: Final[tuple[str, ...]] = (
    "Hi there! I'm Blip. What would you like to do today?",
    "Hello! It's Blip. Do you want to practice spelling, do some math, or hear a story?",
    "Hey friend! Blip here. What shall we learn today?",
)

DRILL_PROMPTS: Final[tuple[str, ...]] = (
    "Let's try another one!",
    "Ready for the next word?",
    "Ready for the next one?",
    "Great job!",
    "That's right!",
    "Nice try! Let's look at it together.",
    "Almost! Want a hint?",
    "You're doing great. Keep going!",
)

FIXED_REPLIES: Final[tuple[str, ...]] = (
    "My thinking brain is napping right now. Can we try again in a little bit?",
    "Oops, I got a bit mixed up. Can you say that again?",
    "I'm still being set up. Ask a grown-up to finish setting me up, then we can play!",
)

ALL_PHRASES: Final[tuple[str, ...]] = (
    *FILLERS_CHEERFUL,
    *FILLERS_CREATIVE,
    *FILLERS_CALM,
    *GREETINGS,
    *DRILL_PROMPTS,
    *FIXED_REPLIES,
)
