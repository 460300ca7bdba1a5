"""The optional llm-judge: a model rates each answer from 1 to 5 for a child of the case's age.

Off by default. Its rating is reported apart as "llm-judge" (0 to 1) and never enters the
score or the recommendation: a model grading models (possibly itself) is an opinion, and the
deterministic checks are what the routing table rests on.
"""

from __future__ import annotations

import asyncio
import re
from typing import Final

from ..agent.backends import BackendFailure, ChatMessage
from .runner import ModelClient
from .testset import BenchCase

JUDGE_LABEL: Final = "llm-judge"
_JUDGE_SYSTEM: Final = (
    "You grade answers a voice assistant gave to young children. The answer is read aloud by "
    "a text-to-speech voice. Judge: is it correct, does it answer what the child said, is it "
    "kind and suitable for a child of that age, and is it short and plain enough to be spoken "
    "(no markdown, lists or emoji)? Reply with one digit from 1 (bad) to 5 (excellent) and "
    "nothing else."
)
_DIGIT: Final = re.compile(r"\b([1-5])\b")
_JUDGE_MAX_TOKENS: Final = 5
JUDGE_TIMEOUT: Final = 30.0


def parse_rating(text: str) -> float | None:
    """The first 1-5 digit of the judge's reply, as 0 to 1; None when there is none."""
    match = _DIGIT.search(text)
    if match is None:
        return None
    return (int(match.group(1)) - 1) / 4


class LlmJudge:
    """Rates answers with one of the agent's model clients."""

    def __init__(self, client: ModelClient) -> None:
        """The judging model's client."""
        self._client = client
        self.name = client.name

    async def rate(self, case: BenchCase, answer: str) -> float | None:
        """The judge's rating of one answer, or None when it failed or said no number."""
        message = (
            f"A {case.age}-year-old child said: {case.prompt!r}\n"
            f"The assistant answered: {answer!r}\n"
            "Your grade (1-5):"
        )
        parts: list[str] = []
        try:
            async with asyncio.timeout(JUDGE_TIMEOUT):
                async for chunk in self._client.stream(
                    _JUDGE_SYSTEM, [ChatMessage(role="user", content=message)], _JUDGE_MAX_TOKENS
                ):
                    parts.append(chunk)
        except (BackendFailure, TimeoutError):
            return None
        return parse_rating("".join(parts))
