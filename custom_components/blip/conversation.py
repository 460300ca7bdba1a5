"""Blip's conversation agent: one per child, selectable in an Assist pipeline.

Each turn: safety check and routing on the child's raw words (the brain), then the answer
streamed into Home Assistant's chat log from the drill engine, the local model or Claude
(``agent.turn``), with a filler first on slow routes. Safety turns also fire
``blip_safety_signal`` and alert the family's adults, whatever happens to the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import inspect
import logging
import time
from typing import Any, Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import chat_session, intent, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .agent.backends import BackendFailure, ChatMessage, ClaudeClient, FailureKind, LocalModelClient
from .agent.fillers import FillerPicker, parse_extra_fillers, strip_filler
from .agent.health import BackendHealth, TurnTiming, TurnTimings
from .agent.safety_alerts import SafetySignal, async_send_safety_alerts
from .agent.turn import NAPPING_REPLY, TurnEngine, TurnReport, TurnRequest
from .brain import (
    Activity,
    Backend,
    DrillEngine,
    DrillState,
    HistoryTurn,
    RouteDecision,
    Router,
    check_safety,
    parse_routing_table,
)
from .brain.activities import DEFAULT_ROUTING
from .brain.drills import word_lists
from .const import (
    CONF_CLAUDE_MODEL,
    CONF_DESIGNATED_ADULT,
    CONF_FILLER,
    CONF_FILLERS,
    CONF_LOCAL_API,
    CONF_LOCAL_MODEL,
    CONF_ROUTING,
    CONF_SAFETY_NOTIFY,
    CONNECT_TIMEOUT,
    DEFAULT_CLAUDE_MODEL,
    DEFAULT_FILLER,
    DEFAULT_LOCAL_MODEL,
    DOMAIN,
    DRILL_REQUEST_PREFIX,
    LOCAL_API_OPENAI,
    LOCAL_READ_TIMEOUT,
    SUBENTRY_CHILD,
)
from .entity import BlipChildEntity

_LOGGER = logging.getLogger(__name__)

# How much earlier conversation the models see (messages, oldest dropped first).
MODEL_HISTORY_MESSAGES = 20
# Conversations whose drill state is kept (old ones are also dropped when HA ends the session).
MAX_CONVERSATIONS = 64

_BACKEND_NAMES = {"claude": "Claude", "local": "the local model (blip-edu)"}


@dataclass
class BlipAgentServices:
    """What every child's agent in one Blip entry shares."""

    engine: TurnEngine
    router: Router
    timings: TurnTimings
    health: BackendHealth


@dataclass
class ConversationState:
    """Blip's own memory of one conversation, next to Home Assistant's chat log."""

    drill_state: DrillState | None = None
    fillers_spoken: set[str] = field(default_factory=set)
    # The child's words on safety turns: they and what follows never reach the local model.
    safety_texts: set[str] = field(default_factory=set)
    last_used: float = field(default_factory=time.monotonic)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One agent per child, sharing the entry's backends."""
    # The drill engine's word lists are files: read them here, off the event loop, not on a
    # child's first quiz.
    await hass.async_add_executor_job(word_lists)
    services = _create_services(hass, entry)
    extras = entry.runtime_data.extras
    extras["agent"] = services
    extras["timings"] = services.timings
    extras["backend_health"] = services.health

    extra_fillers, rejected = parse_extra_fillers(entry.options.get(CONF_FILLERS))
    if rejected:
        _LOGGER.warning(
            "%d extra filler line(s) in Blip's options are not used: a filler must be complete "
            "sentences longer than 60 characters",
            len(rejected),
        )
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_CHILD:
            async_add_entities(
                [BlipConversationEntity(entry, subentry, services, extra_fillers)],
                config_subentry_id=subentry.subentry_id,
            )


def _create_services(hass: HomeAssistant, entry: BlipConfigEntry) -> BlipAgentServices:
    runtime = entry.runtime_data
    claude = None
    if runtime.claude is not None:
        claude = ClaudeClient(
            runtime.claude,
            entry.data.get(CONF_CLAUDE_MODEL) or DEFAULT_CLAUDE_MODEL,
            connect_timeout=CONNECT_TIMEOUT,
        )
    local = None
    if runtime.local_base_url:
        local = LocalModelClient(
            async_get_clientsession(hass),
            runtime.local_base_url,
            entry.data.get(CONF_LOCAL_API, LOCAL_API_OPENAI),
            entry.data.get(CONF_LOCAL_MODEL) or DEFAULT_LOCAL_MODEL,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=LOCAL_READ_TIMEOUT,
        )
    try:
        routing = parse_routing_table(entry.options.get(CONF_ROUTING) or {})
    except ValueError as err:
        _LOGGER.warning("Blip's routing options are not valid, using the defaults: %s", err)
        routing = dict(DEFAULT_ROUTING)
    drills = DrillEngine()
    health = BackendHealth()

    @callback
    def on_failure(failure: BackendFailure, became_down: bool) -> None:
        if failure.backend == "claude" and failure.kind is FailureKind.AUTH:
            # Anthropic no longer accepts the key: ask the family for a new one.
            entry.async_start_reauth(hass)
        if became_down:
            ir.async_create_issue(
                hass,
                DOMAIN,
                _issue_id(entry, failure.backend),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="backend_down",
                translation_placeholders={
                    "backend": _BACKEND_NAMES.get(failure.backend, failure.backend),
                    "failure": failure.kind.value,
                },
            )

    @callback
    def on_success(backend: str, recovered: bool) -> None:
        # Also clears an issue left from before a restart (deleting a missing one is a no-op).
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, backend))

    engine = TurnEngine(
        claude=claude,
        local=local,
        drills=drills,
        health=health,
        on_failure=on_failure,
        on_success=on_success,
    )
    return BlipAgentServices(
        engine=engine,
        router=Router(routing, drills),
        # Shared with the timing sensors, whichever platform is set up first creates it.
        timings=runtime.extras.setdefault("timings", TurnTimings()),
        health=health,
    )


def _drill_request(extra_system_prompt: str | None) -> str | None:
    """The drill kind ("spelling", "math") that blip.start_drill asked for, if any."""
    if extra_system_prompt and extra_system_prompt.startswith(DRILL_REQUEST_PREFIX):
        return extra_system_prompt.removeprefix(DRILL_REQUEST_PREFIX).strip() or None
    return None


def _issue_id(entry: BlipConfigEntry, backend: str) -> str:
    return f"backend_down_{backend}_{entry.entry_id}"


class BlipConversationEntity(
    BlipChildEntity, conversation.ConversationEntity, conversation.AbstractConversationAgent
):
    """Blip for one child."""

    _attr_name = None
    _attr_supports_streaming = True

    def __init__(
        self,
        entry: BlipConfigEntry,
        subentry: ConfigSubentry,
        services: BlipAgentServices,
        extra_fillers: tuple[str, ...] = (),
    ) -> None:
        """Name the agent after the child: "Blip for Ada"."""
        super().__init__(entry, subentry)
        self._attr_unique_id = subentry.subentry_id
        self.services = services
        self.fillers = FillerPicker(extra_fillers)
        self._conversations: dict[str, ConversationState] = {}

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """Blip speaks English."""
        return ["en"]

    @property
    def filler_enabled(self) -> bool:
        """The child's own setting, else the family's default."""
        default = self.entry.options.get(CONF_FILLER, DEFAULT_FILLER)
        return bool(self.subentry.data.get(CONF_FILLER, default))

    async def _async_handle_message(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog
    ) -> conversation.ConversationResult:
        """Answer one turn; the child always hears something."""
        started = time.monotonic()
        state = self._conversation_state(chat_log.conversation_id)
        history = self._history(chat_log, state)

        decision = self._decide(user_input.text, history, state)
        drill_request = _drill_request(user_input.extra_system_prompt)
        if drill_request and decision.safety is None and state.drill_state is None:
            # blip.start_drill asked "Are you ready for your first word?" on the satellite: the
            # child's reply starts the drill (the safety check above still ran on their words).
            decision = self._decide(f"quiz me on {drill_request}", history, state)
        routing_ms = (time.monotonic() - started) * 1000
        is_safety = decision.safety is not None or decision.activity is Activity.SAFETY
        closing: str | None = None
        if is_safety:
            # Never blocked by limits; adults are alerted whatever happens to the answer.
            self._alert_adults(user_input, decision)
            state.safety_texts.add(user_input.text)
        else:
            verdict = await self._progress_call("check_limits", self.subentry.subentry_id)
            if verdict is not None and (reply := getattr(verdict, "reply", None)):
                return self._speak_fixed(
                    user_input, chat_log, str(reply), decision, started, routing_ms
                )
            closing = getattr(verdict, "break_reminder", None) or None

        request = TurnRequest(
            text=user_input.text,
            history=_model_history(history),
            decision=decision,
            child_name=self.child_name,
            age=self.child_age,
            country=self.hass.config.country,
            filler_enabled=self.filler_enabled,
            drill_state=state.drill_state,
            extra_system_prompt=None
            if is_safety or drill_request
            else user_input.extra_system_prompt,
            closing=closing,
            local_history=_model_history(_before_safety(history, state.safety_texts)),
        )
        report = TurnReport(started=started)
        try:
            async for _content in chat_log.async_add_delta_content_stream(
                self.entity_id, self.services.engine.stream(request, report, self.fillers)
            ):
                pass
        except Exception:
            # The engine never raises; this guards the chat log's own handling of the deltas.
            _LOGGER.exception("Blip could not add its answer to the conversation")

        if report.filler:
            state.fillers_spoken.add(report.filler)
        if report.drill_reply is not None:
            state.drill_state = report.drill_reply.state
            if report.drill_reply.results:
                await self._progress_call(
                    "record_drill_results", self.subentry.subentry_id, report.drill_reply.results
                )
        if not is_safety:
            # Timing sensors and diagnostics are seen by every adult in the house; like the
            # progress sensors, they must not give a safety turn away.
            self._record_timing(decision, report, routing_ms)
        await self._progress_call(
            "record_turn",
            child_id=self.subentry.subentry_id,
            activity=decision.activity,
            satellite_id=user_input.satellite_id,
        )
        return self._result(user_input, chat_log, report.answer or NAPPING_REPLY)

    def _decide(
        self, text: str, history: list[HistoryTurn], state: ConversationState
    ) -> RouteDecision:
        """The router's decision; if the router itself breaks, still check safety, then chat."""
        try:
            return self.services.router.decide(text, history, state.drill_state, self.child_age)
        except Exception:
            _LOGGER.exception("Blip's router failed; answering as a chat turn")
        try:
            finding = check_safety(text, history)
        except Exception:
            _LOGGER.exception("Blip's safety check failed")
            finding = None
        if finding is not None:
            return RouteDecision(Activity.SAFETY, Backend.CLAUDE, finding, None, False)
        return RouteDecision(Activity.CHITCHAT, Backend.CLAUDE, None, None, False)

    def _alert_adults(
        self, user_input: conversation.ConversationInput, decision: RouteDecision
    ) -> None:
        """Fire the event and notify the adults, alongside (not before) the answer."""
        finding = decision.safety
        signal = SafetySignal(
            child_id=self.subentry.subentry_id,
            child_name=self.child_name,
            category=finding.category if finding else None,
            designated_adult_only=finding.designated_adult_only if finding else False,
            satellite_id=user_input.satellite_id,
            device_id=user_input.device_id,
        )
        options = self.entry.options
        self.entry.async_create_task(
            self.hass,
            async_send_safety_alerts(
                self.hass,
                signal,
                list(options.get(CONF_SAFETY_NOTIFY) or []),
                options.get(CONF_DESIGNATED_ADULT) or None,
                context=user_input.context,
            ),
            name="blip_safety_alerts",
        )

    async def _progress_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the learning-progress tracker when it is there; never fail the turn over it."""
        progress = getattr(self.entry.runtime_data, "progress", None)
        if progress is None or (function := getattr(progress, method, None)) is None:
            return None
        try:
            result = function(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            _LOGGER.exception("Blip's progress tracker failed in %s", method)
            return None
        return result

    def _speak_fixed(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        text: str,
        decision: RouteDecision,
        started: float,
        routing_ms: float,
    ) -> conversation.ConversationResult:
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=self.entity_id, content=text)
        )
        total_ms = (time.monotonic() - started) * 1000
        self.services.timings.record(
            TurnTiming(
                activity=decision.activity.value,
                answered_by="limit",
                routing_ms=round(routing_ms, 2),
                filler_ms=None,
                first_token_ms=round(total_ms, 1),
                total_ms=round(total_ms, 1),
            )
        )
        return self._result(user_input, chat_log, text)

    def _record_timing(
        self, decision: RouteDecision, report: TurnReport, routing_ms: float
    ) -> None:
        self.services.timings.record(
            TurnTiming(
                activity=decision.activity.value,
                answered_by=report.answered_by or "fixed_reply",
                routing_ms=round(routing_ms, 2),
                filler_ms=report.ms(report.filler_at),
                first_token_ms=report.ms(report.first_text_at),
                total_ms=report.ms(report.finished_at or time.monotonic()) or 0.0,
                failures=tuple(f"{f.backend}:{f.kind.value}" for f in report.failures),
            )
        )

    def _result(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        fallback_text: str,
    ) -> conversation.ConversationResult:
        try:
            return conversation.async_get_result_from_chat_log(user_input, chat_log)
        except HomeAssistantError:
            response = intent.IntentResponse(language=user_input.language)
            response.async_set_speech(fallback_text)
            return conversation.ConversationResult(
                response=response, conversation_id=chat_log.conversation_id
            )

    def _conversation_state(self, conversation_id: str) -> ConversationState:
        state = self._conversations.get(conversation_id)
        if state is None:
            if len(self._conversations) >= MAX_CONVERSATIONS:
                oldest = min(self._conversations, key=lambda c: self._conversations[c].last_used)
                del self._conversations[oldest]
            state = self._conversations[conversation_id] = ConversationState()
            if (session := chat_session.current_session.get()) is not None:
                session.async_on_cleanup(lambda: self._conversations.pop(conversation_id, None))
        state.last_used = time.monotonic()
        return state

    def _history(
        self, chat_log: conversation.ChatLog, state: ConversationState
    ) -> list[HistoryTurn]:
        """Earlier turns of this conversation, without fillers; the current turn excluded."""
        fillers = self.fillers.all_fillers | state.fillers_spoken
        earlier = chat_log.content[:-1]  # the last content is this turn's own words
        turns: list[HistoryTurn] = []
        for content in earlier:
            if isinstance(content, conversation.UserContent) and content.content:
                turns.append(HistoryTurn("user", content.content))
            elif (
                isinstance(content, conversation.AssistantContent)
                and content.content
                and (text := strip_filler(content.content, fillers).strip())
            ):
                turns.append(HistoryTurn("assistant", text))
        return turns


def _before_safety(history: list[HistoryTurn], safety_texts: set[str]) -> list[HistoryTurn]:
    """The history up to the first safety turn: a disclosure, Claude's answer to it and the
    talk that follows stay away from the local model."""
    for index, turn in enumerate(history):
        if turn.role == "user" and turn.text in safety_texts:
            return history[:index]
    return history


def _model_history(history: list[HistoryTurn]) -> list[ChatMessage]:
    """History as model messages: alternating roles, starting with the child, recent only."""
    messages: list[ChatMessage] = []
    for turn in history[-MODEL_HISTORY_MESSAGES:]:
        role: Literal["user", "assistant"] = "assistant" if turn.role == "assistant" else "user"
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n" + turn.text
        elif messages or role == "user":
            messages.append(ChatMessage(role=role, content=turn.text))
    # The current turn is a user message, so the history must end with Blip's answer.
    if messages and messages[-1]["role"] == "user":
        messages.pop()
    return messages
