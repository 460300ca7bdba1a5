"""Keep children's words, names and the family's secrets out of other libraries' DEBUG logs.

With debug logging turned on, libraries Blip uses write what they handle: the Anthropic SDK
dumps each request (the child's words, Blip's prompt with the child's name), Home Assistant's
conversation and Assist pipeline log every utterance and chat-log entry, httpx logs request
URLs (credentials included). A family that turns debug logging on to report a problem must not
publish their child's words with the log, so while Blip is loaded a filter on exactly those
loggers replaces what Blip knows to be private with ``**REDACTED**``:

- settings: the API key, the credentials in configured URLs, notify targets, satellites,
  areas, the family's own filler lines and children's names;
- words: what a child said in a recent turn (Blip registers each turn's text as it arrives).

Home Assistant's conversation logs every utterance at DEBUG ("Processing in en: …", "Adding
user content: …") before any agent sees it, without saying which agent it is for. In a home
with a children's companion any utterance may be a child's, so while Blip is loaded those two
lines show the words as ``**REDACTED**`` whoever they were for (the rest of those loggers'
records are untouched), and the words are remembered so the requests that follow are redacted
too.

Records of other integrations pass untouched (nothing of Blip's is in them), and the filter
costs nothing while debug logging is off: a logger drops a DEBUG record before any filter runs.
Blip's own loggers never log a child's words above DEBUG (see the developer guide).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
import logging
from typing import Any, Final
from urllib.parse import urlsplit

from homeassistant.const import EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback

from .const import (
    CONF_API_KEY,
    CONF_AREAS,
    CONF_CHILD_NAME,
    CONF_CLAUDE_BASE_URL,
    CONF_DESIGNATED_ADULT,
    CONF_FILLERS,
    CONF_LOCAL_URL,
    CONF_SAFETY_NOTIFY,
    CONF_SATELLITES,
)

REDACTED: Final = "**REDACTED**"
# A filter only sees records logged to its own logger (not its children's), so each module
# logger that writes a child's words or a request is named.
WATCHED_LOGGERS: Final = (
    "anthropic",
    "anthropic._base_client",
    "httpx",
    "httpcore.http11",
    "httpcore.connection",
    "homeassistant.components.conversation",
    "homeassistant.components.conversation.agent_manager",
    "homeassistant.components.conversation.chat_log",
    "homeassistant.components.conversation.default_agent",
    "homeassistant.components.assist_pipeline.pipeline",
    "homeassistant.components.tts",
)
# (logger, message format) of Home Assistant's records that carry an utterance as their last
# argument (a str, or a UserContent with .content).
UTTERANCE_RECORDS: Final = frozenset(
    {
        ("homeassistant.components.conversation.agent_manager", "Processing in %s: %s"),
        ("homeassistant.components.conversation.chat_log", "Adding user content: %s"),
    }
)
# Shorter strings ("no", "ok") would garble unrelated log lines and give nothing away.
_MIN_LENGTH: Final = 3
_RECENT_TURNS: Final = 64


class PrivateWordsFilter(logging.Filter):
    """Redacts Blip's private strings from the records of the watched loggers."""

    def __init__(self) -> None:
        """Nothing private is known until settings and turns are registered."""
        super().__init__("blip_private_words")
        self._settings: set[str] = set()
        self._turns: deque[str] = deque(maxlen=_RECENT_TURNS)
        self._ordered: list[str] = []
        self._attached: list[logging.Logger] = []

    def hide_settings(self, data: Mapping[str, Any], *more: Mapping[str, Any]) -> None:
        """Register the private values of an entry's data, options or a child's settings."""
        for mapping in (data, *more):
            for key in (CONF_API_KEY, CONF_CHILD_NAME, CONF_DESIGNATED_ADULT):
                self._settings |= _strings(mapping.get(key))
            for key in (CONF_SAFETY_NOTIFY, CONF_SATELLITES, CONF_AREAS):
                self._settings |= _strings(mapping.get(key))
            for key in (CONF_CLAUDE_BASE_URL, CONF_LOCAL_URL):
                self._settings |= _url_credentials(mapping.get(key))
            if fillers := mapping.get(CONF_FILLERS):
                self._settings |= _strings(str(fillers).splitlines())
        self._reorder()

    def hide_turn(self, text: str) -> None:
        """Register what a child just said (the latest turns are remembered)."""
        if len(text := text.strip()) >= _MIN_LENGTH and text not in self._turns:
            self._turns.append(text)
            self._reorder()

    @callback
    def async_attach(self, hass: HomeAssistant) -> CALLBACK_TYPE:
        """Filter until the returned callback runs (unload) or Home Assistant closes: shutdown
        does not unload entries, and the loggers outlive Home Assistant's run."""
        self.attach()
        closed = False

        @callback
        def on_close(_: Event) -> None:
            nonlocal closed
            closed = True
            self.detach()

        stop_listening = hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, on_close)

        @callback
        def unload() -> None:
            self.detach()
            if not closed:  # a fired one-time listener is already gone
                stop_listening()

        return unload

    def attach(self) -> None:
        """Start filtering the watched loggers."""
        for name in WATCHED_LOGGERS:
            logger = logging.getLogger(name)
            logger.addFilter(self)
            self._attached.append(logger)

    def detach(self) -> None:
        """Stop filtering (Blip unloads)."""
        for logger in self._attached:
            logger.removeFilter(self)
        self._attached.clear()

    def redact(self, message: str) -> str:
        """``message`` with every private string replaced."""
        for private in self._ordered:
            if private in message:
                message = message.replace(private, REDACTED)
        return message

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a record that holds something private; never drop one."""
        if (record.name, record.msg) in UTTERANCE_RECORDS and isinstance(record.args, tuple):
            *before, utterance = record.args
            self.hide_turn(str(getattr(utterance, "content", utterance) or ""))
            record.args = (*before, REDACTED)
        if not self._ordered:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        if (redacted := self.redact(message)) != message:
            record.msg, record.args = redacted, None
        return True

    def _reorder(self) -> None:
        # Longest first: a child's sentence is replaced whole before a name inside it.
        self._ordered = sorted(
            {s for s in (*self._settings, *self._turns) if len(s) >= _MIN_LENGTH},
            key=len,
            reverse=True,
        )


def _strings(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value.strip()} - {""}
    if isinstance(value, Iterable):
        return {str(item).strip() for item in value if item is not None} - {""}
    return {str(value)}


def _url_credentials(url: Any) -> set[str]:
    """The user info of a URL ("user:password") and the password alone."""
    if not isinstance(url, str) or "@" not in url:
        return set()
    parts = urlsplit(url)
    found = set()
    if parts.username:
        found.add(parts.netloc.rsplit("@", 1)[0])
    if parts.password:
        found.add(parts.password)
    return found
