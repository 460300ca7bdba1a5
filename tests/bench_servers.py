"""Loopback backends with known behaviour for the benchmark tests.

``tests/llm_servers.py`` speaks the real wire formats; this module makes their answers depend on
the question: each server looks up the child's prompt (the last user message) in a table of
answers, and may answer chosen prompts with an HTTP error. So a test knows, case by case, what
each backend says, how fast, and which requests fail, and can compute the exact report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from custom_components.blip.bench.testset import BenchCase
from tests.llm_servers import FakeAnthropic, FakeLocalModel, StreamScript, start_fake_server

UNKNOWN_PROMPT_REPLY = "I am not sure about that one."


def last_user_text(body: Mapping[str, Any]) -> str:
    """The child's words: the last user message of an Anthropic, OpenAI or Ollama request."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):  # Anthropic content blocks
            return "".join(block.get("text", "") for block in content if isinstance(block, dict))
        return str(content)
    return ""


def answer_table(answers: Mapping[str, str]) -> StreamScript:
    """A script that answers each prompt from ``answers`` (prompt -> reply)."""

    def reply(body: dict[str, Any]) -> str:
        return answers.get(last_user_text(body), UNKNOWN_PROMPT_REPLY)

    return StreamScript(reply=reply, chunk_chars=16)


@dataclass
class TableAnthropic(FakeAnthropic):
    """Anthropic's API answering by prompt; prompts in ``fail_prompts`` get that HTTP status."""

    fail_prompts: dict[str, int] = field(default_factory=dict)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        status = self.fail_prompts.get(last_user_text(body))
        if status is not None:
            self.chat_requests.append(body)
            return self._status_error(status)
        return await super()._messages(request)


@dataclass
class TableLocalModel(FakeLocalModel):
    """The blip-edu server answering by prompt; prompts in ``fail_prompts`` get that status."""

    fail_prompts: dict[str, int] = field(default_factory=dict)

    async def _begin_chat(self, request: web.Request) -> tuple[dict[str, Any], int | None]:
        body, status = await super()._begin_chat(request)
        return body, self.fail_prompts.get(last_user_text(body), status)


@dataclass(frozen=True)
class Behaviour:
    """What one backend does on a test set: its answers, its delay, the prompts it fails."""

    answers: dict[str, str]  # prompt -> raw answer
    first_token_delay: float = 0.0
    fail_prompts: dict[str, int] = field(default_factory=dict)


def reference_answers(cases: list[BenchCase]) -> dict[str, str]:
    """Every case's reference answer (a full-marks answer), by prompt."""
    return {case.prompt: case.reference or "" for case in cases}


@contextlib.asynccontextmanager
async def serve_anthropic(behaviour: Behaviour) -> AsyncIterator[TableAnthropic]:
    """A loopback Anthropic API with this behaviour."""
    fake = TableAnthropic(fail_prompts=dict(behaviour.fail_prompts))
    fake.script = answer_table(behaviour.answers)
    fake.script.first_token_delay = behaviour.first_token_delay
    async with start_fake_server(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake


@contextlib.asynccontextmanager
async def serve_local(behaviour: Behaviour, api: str = "openai") -> AsyncIterator[TableLocalModel]:
    """A loopback blip-edu server (OpenAI-compatible or Ollama) with this behaviour."""
    fake = TableLocalModel(api=api, fail_prompts=dict(behaviour.fail_prompts))
    fake.script = answer_table(behaviour.answers)
    fake.script.first_token_delay = behaviour.first_token_delay
    async with start_fake_server(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake
