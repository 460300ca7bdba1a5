"""Blip's conversation agent: one per child, selectable in an Assist pipeline.

Each turn: safety check and routing on the child's raw words (the brain), then the answer
streamed into Home Assistant's chat log from the drill engine, the local model or Claude
(``agent.turn``), with a filler first on slow routes. Safety turns also fire
``blip_safety_signal`` and alert the family's adults, whatever happens to the answer. Other
turns also get Claude's second opinion in the background (``agent.second_opinion``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
import logging
import time
from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import chat_session, intent, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry, drill_prewarm
from .agent.backends import BackendFailure, ChatMessage, ClaudeClient, FailureKind, LocalModelClient
from .agent.fillers import FillerPicker, parse_extra_fillers, strip_filler
from .agent.health import BackendHealth, TurnTiming, TurnTimings
from .agent.prompts import HARM_AT_HOME, check_in, guarded_prompt, safety_prompt, system_prompt
from .agent.safety_alerts import SafetySignal, async_send_safety_alerts
from .agent.second_opinion import (
    DISTRESS_MARKER_INSTRUCTION,
    SECOND_OPINION_MODEL,
    CheckIns,
    DistressFlag,
    SecondOpinion,
    TurnWatch,
)
from .agent.turn import NAPPING_REPLY, TurnEngine, TurnReport, TurnRequest
from .brain import (
    Activity,
    Backend,
    DrillEngine,
    DrillState,
    HistoryTurn,
    RouteDecision,
    Router,
    SafetyCategory,
    check_safety,
    parse_routing_table,
)
from .brain.activities import DEFAULT_ROUTING
from .brain.drills import ItemPicker, word_lists
from .child_session import TurnStart
from .const import (
    CONF_CLAUDE_MODEL,
    CONF_DESIGNATED_ADULT,
    CONF_FILLER,
    CONF_FILLERS,
    CONF_LOCAL_API,
    CONF_LOCAL_MODEL,
    CONF_ROUTING,
    CONF_SAFETY_NOTIFY,
    CONF_SECOND_OPINION,
    CONNECT_TIMEOUT,
    DEFAULT_CLAUDE_MODEL,
    DEFAULT_FILLER,
    DEFAULT_LOCAL_MODEL,
    DEFAULT_SECOND_OPINION,
    DOMAIN,
    LOCAL_API_OPENAI,
    LOCAL_READ_TIMEOUT,
    SUBENTRY_CHILD,
)
from .entity import BlipChildEntity

_LOGGER = logging.getLogger(__name__)

# Children talk at the same time on different satellites; each turn has its own streams and
# deadlines, so turns are not queued behind each other.
PARALLEL_UPDATES = 0

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
    second_opinion: SecondOpinion | None = None  # None: no Claude, or the family turned it off


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
    services = entry.runtime_data.agent = _create_services(hass, entry)
    drill_prewarm.async_setup(hass, entry)

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
    health = runtime.health

    @callback
    def on_failure(failure: BackendFailure, became_down: bool) -> None:
        if failure.backend == "claude" and failure.kind is FailureKind.AUTH:
            # Anthropic no longer accepts the key: ask the family for a new one.
            entry.async_start_reauth(hass)
        if became_down:
            # Once per outage (log-when-unavailable); the repair issue says the same.
            _LOGGER.warning(
                "%s is not answering (%s); Blip answers from what works until it is back",
                _BACKEND_NAMES.get(failure.backend, failure.backend),
                failure.kind.value,
            )
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
        if recovered:
            _LOGGER.info("%s is answering again", _BACKEND_NAMES.get(backend, backend))
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
    second_opinion = None
    if runtime.claude is not None and entry.options.get(
        CONF_SECOND_OPINION, DEFAULT_SECOND_OPINION
    ):
        second_opinion = SecondOpinion(
            ClaudeClient(runtime.claude, SECOND_OPINION_MODEL, connect_timeout=CONNECT_TIMEOUT),
            # Cancelled when the entry unloads.
            lambda coro, name: entry.async_create_background_task(hass, coro, name),
            # A rejected key is the family's to fix, even when only the second opinion saw it.
            on_failure=lambda failure: on_failure(failure, False)
            if failure.kind is FailureKind.AUTH
            else None,
            paused=lambda: health.auth_blocked("claude"),
        )
    return BlipAgentServices(
        engine=engine,
        router=Router(routing, drills, runtime.safety_model),
        timings=runtime.timings,
        health=health,
        second_opinion=second_opinion,
    )


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
        # A check-in Claude's second opinion asked for after a turn had ended.
        self.check_ins = CheckIns()

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
        self.entry.runtime_data.log_privacy.hide_turn(user_input.text)
        state = self._conversation_state(chat_log.conversation_id)
        history = self._history(chat_log, state)

        child_id = self.subentry.subentry_id
        sessions = self.entry.runtime_data.sessions
        if state.drill_state is not None:
            state.drill_state = sessions.follow(
                child_id, chat_log.conversation_id, state.drill_state
            )
        picker = self._picker()
        decision = self._decide(user_input.text, history, state, picker)
        start = TurnStart()
        if decision.safety is not None:
            sessions.take_drill_request(child_id)  # no drill invitation outlives a safety turn
        elif state.drill_state is None:
            # The child's state follows them: an unfinished drill from another satellite (or
            # from before a restart), or blip.start_drill's "Are you ready for your first word?"
            # (the safety check above still ran on their words).
            start = sessions.turn_start(child_id, chat_log.conversation_id, user_input.text)
            if start.resume is not None:
                state.drill_state = start.resume
            elif start.start_kind:
                decision = self._decide(f"quiz me on {start.start_kind}", history, state, picker)
        decision = drill_prewarm.with_cached_opening(self.entry, decision)
        routing_ms = (time.monotonic() - started) * 1000
        is_safety = decision.safety is not None or decision.activity is Activity.SAFETY
        # Claude's second opinion heard distress after an earlier turn: Blip checks in first.
        check_in_due = self.check_ins.take()
        if check_in_due is not None and not is_safety:
            decision = replace(decision, guarded=True)
        watch = self._watch_distress(user_input, state)
        report = TurnReport(started=started)
        closing: str | None = None
        if is_safety:
            # Never blocked by limits; adults are alerted whatever happens to the answer.
            self._alert_adults(user_input, decision)
            state.safety_texts.add(user_input.text)
        elif decision.guarded:
            # Claude with the child-safety prompt, no alert; never the local model, now or later;
            # not held back by limits either (it may be distress the checks were unsure of).
            state.safety_texts.add(user_input.text)
        else:
            if self.services.second_opinion is not None:
                self.services.second_opinion.start(watch, user_input.text, history, self.child_age)
            verdict = self._progress_safely(
                "check_limits", self.entry.runtime_data.progress.check_limits, self.child_id
            )
            if verdict is not None and verdict.reply:
                watch.finish()
                return self._speak_fixed(
                    user_input, chat_log, verdict.reply, decision, started, routing_ms
                )
            closing = verdict.break_reminder if verdict is not None else None
            if start.resume_text is not None:
                sessions.save(
                    child_id, chat_log.conversation_id, start.resume, user_input.satellite_id
                )
                drill_prewarm.expect_answer(self.entry, start.resume, self.child_age)
                self._progress_safely(
                    "record_turn",
                    self.entry.runtime_data.progress.record_turn,
                    child_id=child_id,
                    activity=decision.activity,
                    satellite_id=user_input.satellite_id,
                )
                return self._speak_fixed(
                    user_input,
                    chat_log,
                    start.resume_text,
                    decision,
                    started,
                    routing_ms,
                    answered_by="resume",
                )

        def after_answer() -> str | None:
            if report.claude_flag is not None:  # Claude's own answer already checked in
                watch.raise_flag(report.claude_flag, checked_in=True)
            return watch.after_answer()

        request = TurnRequest(
            text=user_input.text,
            history=_model_history(history),
            decision=decision,
            child_name=self.child_name,
            age=self.child_age,
            country=self.hass.config.country,
            filler_enabled=self.filler_enabled,
            drill_state=state.drill_state,
            picker=picker,
            extra_system_prompt=None
            if is_safety or decision.guarded or start.start_kind
            else user_input.extra_system_prompt,
            closing=closing,
            local_history=_model_history(_before_safety(history, state.safety_texts)),
            opening=self._check_in_words(check_in_due) if check_in_due else None,
            concern=check_in_due.category if check_in_due else None,
            after_answer=None if is_safety else after_answer,
            watch_distress=not is_safety,
        )
        await self._async_show_prompt(user_input, chat_log, decision)
        try:
            async for _content in chat_log.async_add_delta_content_stream(
                self.entity_id, self.services.engine.stream(request, report, self.fillers)
            ):
                pass
        except Exception:
            # The engine never raises; this guards the chat log's own handling of the deltas.
            _LOGGER.exception("Blip could not add its answer to the conversation")

        if report.claude_flag is not None:
            watch.raise_flag(report.claude_flag, checked_in=True)
        watch.finish()
        if report.filler:
            state.fillers_spoken.add(report.filler)
        if report.drill_reply is not None:
            state.drill_state = report.drill_reply.state
            sessions.save(
                child_id, chat_log.conversation_id, state.drill_state, user_input.satellite_id
            )
            drill_prewarm.expect_answer(self.entry, state.drill_state, self.child_age)
            if report.drill_reply.results:
                self._progress_safely(
                    "record_drill_results",
                    self.entry.runtime_data.progress.record_drill_results,
                    self.child_id,
                    report.drill_reply.results,
                )
        if not (is_safety or decision.guarded):
            # Timing sensors and diagnostics are seen by every adult in the house; like the
            # progress sensors, they must not give a safety turn away.
            self._record_timing(decision, report, routing_ms)
        self._progress_safely(
            "record_turn",
            self.entry.runtime_data.progress.record_turn,
            self.child_id,
            decision.activity,
            user_input.satellite_id,
        )
        return self._result(user_input, chat_log, report.answer or NAPPING_REPLY)

    def _picker(self) -> ItemPicker | None:
        """The child's practice picker: next drill items from their memory."""
        try:
            return self.entry.runtime_data.progress.practice_picker(self.subentry.subentry_id)
        except Exception:
            _LOGGER.exception("Blip's practice scheduler failed; drills pick at random")
            return None

    def _decide(
        self,
        text: str,
        history: list[HistoryTurn],
        state: ConversationState,
        picker: ItemPicker | None = None,
    ) -> RouteDecision:
        """The router's decision; if the router itself breaks, still check safety, then chat."""
        try:
            return self.services.router.decide(
                text, history, state.drill_state, self.child_age, picker
            )
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
        self._send_alerts(
            user_input,
            finding.category if finding else None,
            finding.designated_adult_only if finding else False,
        )

    def _watch_distress(
        self, user_input: conversation.ConversationInput, state: ConversationState
    ) -> TurnWatch:
        """Where Claude's distress flags for this turn go: the same alerts as a safety turn."""

        def alert(flag: DistressFlag) -> None:
            # The flagged words and what follows stay away from the local model.
            state.safety_texts.add(user_input.text)
            if not self.check_ins.alert_due(flag):
                _LOGGER.info("Claude flagged the same concern again; the adults were just alerted")
                return
            _LOGGER.info("Claude heard distress in a turn (%s); alerting the adults", flag.source)
            self._send_alerts(user_input, flag.category, flag.category in HARM_AT_HOME)

        return TurnWatch(self.check_ins, alert, self._check_in_words)

    def _check_in_words(self, flag: DistressFlag) -> str:
        return check_in(flag.category, self.hass.config.country)

    def _send_alerts(
        self,
        user_input: conversation.ConversationInput,
        category: SafetyCategory | None,
        designated_adult_only: bool,
    ) -> None:
        signal = SafetySignal(
            child_id=self.subentry.subentry_id,
            child_name=self.child_name,
            category=category,
            designated_adult_only=designated_adult_only,
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

    @property
    def child_id(self) -> str:
        """The child's id: their subentry's, as the progress tracker knows them."""
        return self.subentry.subentry_id

    @staticmethod
    def _progress_safely[**P, R](
        what: str, call: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> R | None:
        """Call the learning-progress tracker; never fail the child's turn over it."""
        try:
            return call(*args, **kwargs)
        except Exception:
            _LOGGER.exception("Blip's progress tracker failed in %s", what)
            return None

    async def _async_show_prompt(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        decision: RouteDecision,
    ) -> None:
        """Put Blip's system prompt for this turn in the chat log, for HA's debug view.

        Home Assistant renders it as a template (so it goes in raw, a name with braces stays
        text) and appends the caller's extra prompt and the date. The models get Blip's own
        prompt from the turn engine; a failure here never costs the child the answer.
        """
        if decision.safety is not None or decision.activity is Activity.SAFETY:
            category = decision.safety.category if decision.safety else None
            prompt = safety_prompt(
                category, self.child_name, self.child_age, self.hass.config.country
            )
        elif decision.guarded:
            prompt = guarded_prompt(None, self.child_name, self.child_age)
        else:
            prompt = system_prompt(decision.activity, self.child_name, self.child_age)
        if decision.safety is None and decision.backend is Backend.CLAUDE:
            # Claude may flag distress in its own answer (agent/second_opinion.py).
            prompt = f"{prompt}\n\n{DISTRESS_MARKER_INSTRUCTION}"
        try:
            await chat_log.async_provide_llm_data(
                user_input.as_llm_context(DOMAIN),
                user_llm_hass_api=None,
                user_llm_prompt="{% raw %}" + prompt + "{% endraw %}",
                user_extra_system_prompt=user_input.extra_system_prompt,
            )
        except HomeAssistantError as err:
            _LOGGER.debug("Blip's prompt could not be shown in the chat log: %s", err)

    def _speak_fixed(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
        text: str,
        decision: RouteDecision,
        started: float,
        routing_ms: float,
        answered_by: str = "limit",
    ) -> conversation.ConversationResult:
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=self.entity_id, content=text)
        )
        total_ms = (time.monotonic() - started) * 1000
        self.services.timings.record(
            TurnTiming(
                activity=decision.activity.value,
                answered_by=answered_by,
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
