"""Config flow for Blip: backends (main entry), children (subentries) and family options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    AreaSelector,
    AreaSelectorConfig,
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
import voluptuous as vol

from .agent.fillers import parse_extra_fillers
from .benchmark_action import CONF_IMPORT_BENCHMARK, async_last_recommendation
from .brain.activities import DEFAULT_ROUTING, Activity, Backend
from .brain.end_of_turn import DEFAULT_PATIENCE, PATIENCE
from .const import (
    CONF_AGE,
    CONF_API_KEY,
    CONF_AREAS,
    CONF_CHILD_NAME,
    CONF_CLAUDE_BASE_URL,
    CONF_CLAUDE_MODEL,
    CONF_DAILY_MINUTES,
    CONF_DESIGNATED_ADULT,
    CONF_FILLER,
    CONF_FILLERS,
    CONF_LISTEN_PATIENCE,
    CONF_LISTEN_PORT,
    CONF_LOCAL_API,
    CONF_LOCAL_MODEL,
    CONF_LOCAL_URL,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_RESUME_MINUTES,
    CONF_ROUTING,
    CONF_SAFETY_NOTIFY,
    CONF_SATELLITES,
    CONF_SCHOOL_WORDS,
    CONF_SECOND_OPINION,
    CONF_VOICE_HOST,
    CONF_VOICE_PORT,
    DEFAULT_CLAUDE_MODEL,
    DEFAULT_DAILY_MINUTES,
    DEFAULT_FILLER,
    DEFAULT_LOCAL_MODEL,
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DEFAULT_RESUME_MINUTES,
    DEFAULT_SECOND_OPINION,
    DEFAULT_VOICE_PORT,
    DOMAIN,
    LOCAL_API_OPENAI,
    LOCAL_APIS,
    LOGGER,
    MAX_AGE,
    MIN_AGE,
    SUBENTRY_CHILD,
)
from .validation import (
    BackendError,
    async_create_claude_client,
    async_list_local_models,
    async_validate_claude,
    async_validate_voice,
    local_model_available,
    normalize_local_url,
)

if TYPE_CHECKING:
    import anthropic

# Activities whose backend a family may choose. Safety is fixed to Claude in code.
CHOOSABLE_ACTIVITIES: tuple[Activity, ...] = tuple(a for a in Activity if a is not Activity.SAFETY)


# Claude's proxy URL and model are rarely changed: a collapsed section of the backend form
# (Home Assistant deprecates show_advanced_options for this). Stored flat in the entry's data.
CLAUDE_SECTION = "claude_connection"
_CLAUDE_SECTION_KEYS = (CONF_CLAUDE_BASE_URL, CONF_CLAUDE_MODEL)


def _flatten(user_input: dict[str, Any]) -> dict[str, Any]:
    """The form's answers as the entry stores them (the section's fields at the top)."""
    data = {k: v for k, v in user_input.items() if k != CLAUDE_SECTION}
    return data | dict(user_input.get(CLAUDE_SECTION) or {})


def _nested(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored data as suggested values for the form (the section's fields inside it)."""
    nested = {k: v for k, v in data.items() if k not in _CLAUDE_SECTION_KEYS}
    nested[CLAUDE_SECTION] = {k: data[k] for k in _CLAUDE_SECTION_KEYS if k in data}
    return nested


def _backend_schema() -> vol.Schema:
    schema: dict[Any, Any] = {
        vol.Optional(CONF_API_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Optional(CONF_LOCAL_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        vol.Required(CONF_LOCAL_API, default=LOCAL_API_OPENAI): SelectSelector(
            SelectSelectorConfig(options=list(LOCAL_APIS), translation_key=CONF_LOCAL_API)
        ),
        vol.Required(CONF_LOCAL_MODEL, default=DEFAULT_LOCAL_MODEL): str,
        vol.Optional(CONF_VOICE_HOST): str,
        vol.Required(CONF_VOICE_PORT, default=DEFAULT_VOICE_PORT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=65535)
        ),
        vol.Optional(CONF_LISTEN_PORT): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        vol.Optional(CLAUDE_SECTION): section(
            vol.Schema(
                {
                    vol.Optional(CONF_CLAUDE_BASE_URL): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.URL)
                    ),
                    vol.Required(CONF_CLAUDE_MODEL, default=DEFAULT_CLAUDE_MODEL): str,
                }
            ),
            {"collapsed": True},
        ),
    }
    return vol.Schema(schema)


async def _async_check_backends(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    """Validate every backend the family entered; return form errors keyed by field."""
    errors: dict[str, str] = {}
    if not data.get(CONF_API_KEY) and not data.get(CONF_LOCAL_URL):
        return {"base": "no_backend"}
    if api_key := data.get(CONF_API_KEY):
        client: anthropic.AsyncAnthropic | None = None
        try:
            client = await async_create_claude_client(hass, api_key, data.get(CONF_CLAUDE_BASE_URL))
            await async_validate_claude(client)
        except BackendError as err:
            LOGGER.warning("Claude check failed: %s", err)
            errors[CONF_API_KEY] = err.reason
        except Exception:
            LOGGER.exception("Unexpected error while checking Claude")
            errors[CONF_API_KEY] = "unknown"
        finally:
            if client is not None:
                await client.close()
    if local_url := data.get(CONF_LOCAL_URL):
        api = data.get(CONF_LOCAL_API, LOCAL_API_OPENAI)
        try:
            models = await async_list_local_models(hass, normalize_local_url(local_url, api), api)
            if not local_model_available(data[CONF_LOCAL_MODEL], models):
                errors[CONF_LOCAL_MODEL] = "model_not_found"
        except BackendError as err:
            LOGGER.warning("Local model server check failed: %s", err)
            errors[CONF_LOCAL_URL] = err.reason
        except Exception:
            LOGGER.exception("Unexpected error while checking the local model server")
            errors[CONF_LOCAL_URL] = "unknown"
    if host := data.get(CONF_VOICE_HOST):
        try:
            await async_validate_voice(host, data[CONF_VOICE_PORT])
        except BackendError as err:
            LOGGER.warning("Voice server check failed: %s", err)
            errors[CONF_VOICE_HOST] = err.reason
    return errors


class BlipConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up Blip: which backends the family has."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the backends and check each one for real."""
        schema = _backend_schema()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _async_check_backends(self.hass, _flatten(user_input))
            if not errors:
                return self.async_create_entry(title="Blip", data=_flatten(user_input))
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors or None,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Anthropic rejected the stored key: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the new key against Anthropic before storing it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            client = await async_create_claude_client(
                self.hass, user_input[CONF_API_KEY], entry.data.get(CONF_CLAUDE_BASE_URL)
            )
            try:
                await async_validate_claude(client)
            except BackendError as err:
                errors[CONF_API_KEY] = err.reason
            finally:
                await client.close()
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: user_input[CONF_API_KEY]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_API_KEY): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            errors=errors or None,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the backends of an existing Blip."""
        entry = self._get_reconfigure_entry()
        schema = _backend_schema()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _async_check_backends(self.hass, _flatten(user_input))
            if not errors:
                return self.async_update_reload_and_abort(entry, data=_flatten(user_input))
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or _nested(entry.data)
            ),
            errors=errors or None,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> BlipOptionsFlow:
        """Family-wide options."""
        return BlipOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Each child is a subentry, with its own agent."""
        return {SUBENTRY_CHILD: ChildSubentryFlow}


def _notify_services(hass: HomeAssistant) -> list[str]:
    return sorted(f"notify.{name}" for name in hass.services.async_services_for_domain("notify"))


class BlipOptionsFlow(OptionsFlow):
    """Routing table, fillers and who is alerted on a safety signal."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form for the family's settings."""
        options = dict(self.config_entry.options)
        routing: dict[str, str] = {
            **{a.value: b.value for a, b in DEFAULT_ROUTING.items() if a is not Activity.SAFETY},
            **options.get(CONF_ROUTING, {}),
        }
        backends = [Backend.DRILL.value, Backend.LOCAL.value, Backend.CLAUDE.value]
        notify_services = _notify_services(self.hass)
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        recommended = await async_last_recommendation(self.hass, self.config_entry.entry_id)

        if user_input is not None:
            if user_input.pop(CONF_IMPORT_BENCHMARK, False) and recommended:
                # The last benchmark's table replaces the rows it has a recommendation for.
                user_input.update({f"route_{a}": b for a, b in recommended.items()})
            new_routing = {
                a.value: user_input.pop(f"route_{a.value}") for a in CHOOSABLE_ACTIVITIES
            }
            # The selectors only offer known backends for known activities, and the schema is
            # checked before this step runs: no routing table from this form can be malformed.
            data = self.config_entry.data
            for activity, backend in new_routing.items():
                if backend == Backend.CLAUDE and not data.get(CONF_API_KEY):
                    errors[f"route_{activity}"] = "backend_not_configured"
                if backend == Backend.LOCAL and not data.get(CONF_LOCAL_URL):
                    errors[f"route_{activity}"] = "backend_not_configured"
            # A line Blip cannot speak as a filler is refused here, with the lines named, rather
            # than dropped at start-up with only a log line the family never sees.
            if rejected := parse_extra_fillers(user_input.get(CONF_FILLERS))[1]:
                errors[CONF_FILLERS] = "filler_unusable"
                placeholders["lines"] = " / ".join(f'"{line}"' for line in rejected)
            if not errors:
                return self.async_create_entry(data={**user_input, CONF_ROUTING: new_routing})
            routing = new_routing

        schema: dict[Any, Any] = {
            vol.Required(f"route_{a.value}", default=routing[a.value]): SelectSelector(
                SelectSelectorConfig(
                    options=backends, translation_key="backend", mode=SelectSelectorMode.DROPDOWN
                )
            )
            for a in CHOOSABLE_ACTIVITIES
        }
        if recommended:
            schema[vol.Optional(CONF_IMPORT_BENCHMARK, default=False)] = BooleanSelector()
        schema[vol.Required(CONF_FILLER, default=options.get(CONF_FILLER, DEFAULT_FILLER))] = (
            BooleanSelector()
        )
        schema[vol.Optional(CONF_FILLERS)] = TextSelector(TextSelectorConfig(multiline=True))
        schema[vol.Required(CONF_LISTEN_PATIENCE, default=DEFAULT_PATIENCE)] = SelectSelector(
            SelectSelectorConfig(options=list(PATIENCE), translation_key=CONF_LISTEN_PATIENCE)
        )
        schema[vol.Optional(CONF_SAFETY_NOTIFY, default=[])] = SelectSelector(
            SelectSelectorConfig(options=notify_services, multiple=True, custom_value=True)
        )
        schema[vol.Optional(CONF_DESIGNATED_ADULT)] = SelectSelector(
            SelectSelectorConfig(options=notify_services, custom_value=True)
        )
        if self.config_entry.data.get(CONF_API_KEY):
            schema[
                vol.Required(
                    CONF_SECOND_OPINION,
                    default=options.get(CONF_SECOND_OPINION, DEFAULT_SECOND_OPINION),
                )
            ] = BooleanSelector()
        schema[vol.Required(CONF_RESUME_MINUTES, default=DEFAULT_RESUME_MINUTES)] = NumberSelector(
            NumberSelectorConfig(min=0, max=24 * 60, step=5, mode=NumberSelectorMode.BOX)
        )
        schema[vol.Required(CONF_QUIET_START, default=DEFAULT_QUIET_START)] = TimeSelector()
        schema[vol.Required(CONF_QUIET_END, default=DEFAULT_QUIET_END)] = TimeSelector()
        schema[vol.Required(CONF_DAILY_MINUTES, default=DEFAULT_DAILY_MINUTES)] = NumberSelector(
            NumberSelectorConfig(min=0, max=600, step=5, mode=NumberSelectorMode.BOX)
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema), user_input or options
            ),
            errors=errors or None,
            description_placeholders=placeholders or None,
        )


class ChildSubentryFlow(ConfigSubentryFlow):
    """Add or change a child: name, age, the satellites in their room, their limits."""

    def _schema(self, defaults: Mapping[str, Any]) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_CHILD_NAME): str,
                vol.Required(CONF_AGE, default=7): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_AGE, max=MAX_AGE, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Optional(CONF_SATELLITES, default=[]): EntitySelector(
                    EntitySelectorConfig(domain="assist_satellite", multiple=True)
                ),
                vol.Optional(CONF_AREAS, default=[]): AreaSelector(
                    AreaSelectorConfig(multiple=True)
                ),
                vol.Required(
                    CONF_FILLER, default=defaults.get(CONF_FILLER, DEFAULT_FILLER)
                ): BooleanSelector(),
                vol.Required(
                    CONF_DAILY_MINUTES,
                    default=defaults.get(CONF_DAILY_MINUTES, DEFAULT_DAILY_MINUTES),
                ): NumberSelector(
                    NumberSelectorConfig(min=0, max=600, step=5, mode=NumberSelectorMode.BOX)
                ),
                vol.Required(
                    CONF_QUIET_START, default=defaults.get(CONF_QUIET_START, DEFAULT_QUIET_START)
                ): TimeSelector(),
                vol.Required(
                    CONF_QUIET_END, default=defaults.get(CONF_QUIET_END, DEFAULT_QUIET_END)
                ): TimeSelector(),
                # This week's spelling words from school: the to-do list the family edits.
                vol.Optional(CONF_SCHOOL_WORDS): EntitySelector(
                    EntitySelectorConfig(domain="todo")
                ),
            }
        )

    @staticmethod
    def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
        data = dict(user_input)
        data[CONF_CHILD_NAME] = data[CONF_CHILD_NAME].strip()
        data[CONF_AGE] = int(data[CONF_AGE])
        data[CONF_DAILY_MINUTES] = int(data[CONF_DAILY_MINUTES])
        return data

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a child; their agent appears as "Blip for <name>"."""
        family_defaults = self._get_entry().options
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._clean(user_input)
            if not data[CONF_CHILD_NAME]:
                errors[CONF_CHILD_NAME] = "name_required"
            elif any(
                sub.data.get(CONF_CHILD_NAME, "").casefold() == data[CONF_CHILD_NAME].casefold()
                for sub in self._get_entry().subentries.values()
            ):
                errors[CONF_CHILD_NAME] = "name_taken"
            else:
                return self.async_create_entry(title=data[CONF_CHILD_NAME], data=data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                self._schema(family_defaults), user_input or {}
            ),
            errors=errors or None,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a child's details (age next birthday, a new room)."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._clean(user_input)
            if not data[CONF_CHILD_NAME]:
                errors[CONF_CHILD_NAME] = "name_required"
            else:
                return self.async_update_and_abort(
                    self._get_entry(), subentry, title=data[CONF_CHILD_NAME], data=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                self._schema(subentry.data), user_input or dict(subentry.data)
            ),
            errors=errors or None,
        )
