"""Config flow: backends checked for real against loopback servers, children, options, reauth."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from aiohttp import web
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blip.config_flow import CLAUDE_SECTION
from custom_components.blip.const import (
    CONF_AGE,
    CONF_API_KEY,
    CONF_CHILD_NAME,
    CONF_CLAUDE_BASE_URL,
    CONF_DAILY_MINUTES,
    CONF_FILLER,
    CONF_FILLERS,
    CONF_LOCAL_API,
    CONF_LOCAL_MODEL,
    CONF_LOCAL_URL,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_RESUME_MINUTES,
    CONF_ROUTING,
    CONF_SCHOOL_WORDS,
    CONF_SECOND_OPINION,
    CONF_VOICE_HOST,
    CONF_VOICE_PORT,
    DOMAIN,
    SUBENTRY_CHILD,
)
from tests.llm_servers import VALID_KEY, FakeAnthropic, FakeLocalModel, start_fake_server


async def _start_user_flow(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    return result


async def test_user_flow_claude_and_local(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, local_server: FakeLocalModel
) -> None:
    """Both backends check out: the entry is created with what the family entered."""
    result = await _start_user_flow(hass)
    user_input = {
        CONF_API_KEY: VALID_KEY,
        CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
        CONF_LOCAL_URL: local_server.base_url,
        CONF_LOCAL_API: local_server.api,
        CONF_LOCAL_MODEL: "blip-edu",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    assert result["title"] == "Blip"
    assert result["data"][CONF_API_KEY] == VALID_KEY
    assert result["data"][CONF_LOCAL_URL] == local_server.base_url
    # Each backend was really asked (the check, then the entry's own setup).
    assert anthropic_server.requests[0] == "/v1/models"
    expected_path = "/api/tags" if local_server.api == "ollama" else "/v1/models"
    assert local_server.requests == [expected_path]


async def test_user_flow_needs_a_backend(hass: HomeAssistant) -> None:
    """Neither Claude nor a local model: a clear form error, no entry."""
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCAL_API: "openai", CONF_LOCAL_MODEL: "blip-edu"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_backend"}


async def test_user_flow_invalid_key_then_fixed(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """A rejected key shows invalid_auth on the key field; fixing it creates the entry."""
    result = await _start_user_flow(hass)
    base = {
        CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
        CONF_LOCAL_API: "openai",
        CONF_LOCAL_MODEL: "blip-edu",
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, CONF_API_KEY: "sk-ant-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, CONF_API_KEY: VALID_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("status", "error"), [(403, "invalid_auth"), (500, "unknown"), (529, "unknown")]
)
async def test_user_flow_claude_server_errors(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, status: int, error: str
) -> None:
    """Anthropic answering with a server error is reported, not crashed on."""
    anthropic_server.status_override = status
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: VALID_KEY,
            CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
        },
    )
    assert result["errors"] == {CONF_API_KEY: error}


async def test_user_flow_cannot_connect(hass: HomeAssistant, unused_tcp_port: int) -> None:
    """Nothing listening: cannot_connect on the field of the backend that failed."""
    result = await _start_user_flow(hass)
    dead = f"http://127.0.0.1:{unused_tcp_port}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: VALID_KEY,
            CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: dead},
            CONF_LOCAL_URL: dead,
            CONF_LOCAL_API: "ollama",
            CONF_LOCAL_MODEL: "blip-edu",
        },
    )
    assert result["errors"] == {CONF_API_KEY: "cannot_connect", CONF_LOCAL_URL: "cannot_connect"}


async def test_user_flow_claude_url_not_a_url(hass: HomeAssistant) -> None:
    """A mistyped proxy URL is cannot_connect on the key, not a form that crashes."""
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: VALID_KEY,
            CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: "http://[::1"},
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "cannot_connect"}


async def test_user_flow_claude_url_answers_a_web_page(hass: HomeAssistant) -> None:
    """A proxy URL that answers with a web page is refused as unknown, and no entry is made."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html>Log in to the router</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/v1/models", page)
    async with start_fake_server(app) as base_url:
        result = await _start_user_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_API_KEY: VALID_KEY,
                CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: base_url},
                CONF_LOCAL_API: "openai",
                CONF_LOCAL_MODEL: "blip-edu",
            },
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "unknown"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_user_flow_local_model_missing(
    hass: HomeAssistant, local_server: FakeLocalModel
) -> None:
    """The server works but does not offer the model: model_not_found."""
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_LOCAL_URL: local_server.base_url,
            CONF_LOCAL_API: local_server.api,
            CONF_LOCAL_MODEL: "llama-99b",
        },
    )
    assert result["errors"] == {CONF_LOCAL_MODEL: "model_not_found"}


async def test_user_flow_local_server_error(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """A local server answering 500 is cannot_connect, with the status in the log."""
    openai_server.status_override = 500
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_LOCAL_URL: openai_server.base_url,
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
        },
    )
    assert result["errors"] == {CONF_LOCAL_URL: "cannot_connect"}


async def test_user_flow_voice_server_unreachable(
    hass: HomeAssistant, openai_server: FakeLocalModel, unused_tcp_port: int
) -> None:
    """A Wyoming voice host that does not answer is reported on its field."""
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_LOCAL_URL: openai_server.base_url,
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
            CONF_VOICE_HOST: "127.0.0.1",
            CONF_VOICE_PORT: unused_tcp_port,
        },
    )
    assert result["errors"] == {CONF_VOICE_HOST: "voice_cannot_connect"}


async def test_single_instance(hass: HomeAssistant) -> None:
    """One Blip per home: children are added to it."""
    MockConfigEntry(domain=DOMAIN, data={CONF_LOCAL_URL: "http://127.0.0.1:1"}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_reauth(hass: HomeAssistant, anthropic_server: FakeAnthropic) -> None:
    """A new key is checked, stored and the entry reloaded; a wrong one is refused."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_API_KEY: "sk-ant-old", CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-ant-also-wrong"}
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: VALID_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == VALID_KEY
    assert entry.data[CONF_CLAUDE_BASE_URL] == anthropic_server.base_url


async def test_reconfigure_keeps_claude_settings_in_their_section(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """The proxy URL shows in the collapsed "Claude connection" section and is stored flat."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_API_KEY: VALID_KEY,
            CONF_CLAUDE_BASE_URL: anthropic_server.base_url,
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema[CLAUDE_SECTION].schema.schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested == {CONF_CLAUDE_BASE_URL: anthropic_server.base_url}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: VALID_KEY,
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
            CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()  # the entry reloads with the new settings
    assert entry.data[CONF_CLAUDE_BASE_URL] == anthropic_server.base_url
    assert CLAUDE_SECTION not in entry.data
    assert await hass.config_entries.async_unload(entry.entry_id)


CHILD = {
    CONF_CHILD_NAME: " Ada ",
    CONF_AGE: 7,
    CONF_FILLER: True,
    CONF_DAILY_MINUTES: 45,
    CONF_QUIET_START: "20:00:00",
    CONF_QUIET_END: "07:00:00",
}


async def _loaded_entry(hass: HomeAssistant, local: FakeLocalModel) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_LOCAL_URL: local.base_url,
            CONF_LOCAL_API: "openai",
            CONF_LOCAL_MODEL: "blip-edu",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_child_subentry_create_and_reconfigure(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """Adding a child yields "Blip for Ada"; reconfiguring changes her details."""
    entry = await _loaded_entry(hass, openai_server)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHILD), context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], CHILD)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Ada"
    await hass.async_block_till_done()

    subentry = next(iter(entry.subentries.values()))
    assert subentry.data[CONF_CHILD_NAME] == "Ada"
    state = hass.states.get("conversation.blip_for_ada")
    assert state is not None, hass.states.async_entity_ids("conversation")

    # The same name twice is refused.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHILD), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**CHILD, CONF_CHILD_NAME: "ada"}
    )
    assert result["errors"] == {CONF_CHILD_NAME: "name_taken"}

    result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**CHILD, CONF_AGE: 8, CONF_SCHOOL_WORDS: "todo.ada_spelling"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data[CONF_AGE] == 8
    # This week's words come from the to-do list chosen for her.
    assert entry.subentries[subentry.subentry_id].data[CONF_SCHOOL_WORDS] == "todo.ada_spelling"


async def test_options_routing(hass: HomeAssistant, openai_server: FakeLocalModel) -> None:
    """Rows may move between configured backends; Claude is refused when it is not set up."""
    entry = await _loaded_entry(hass, openai_server)
    routes = {
        "route_spelling": "drill",
        "route_math": "local",
        "route_chitchat": "local",
        "route_creative": "local",
        "route_trivia": "local",
        "route_emotional": "claude",
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    # The second opinion is Claude's: a family without Claude is not offered it.
    assert CONF_SECOND_OPINION not in {str(key) for key in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **routes,
            CONF_FILLER: True,
            CONF_QUIET_START: "20:00:00",
            CONF_QUIET_END: "07:00:00",
            CONF_DAILY_MINUTES: 30,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"route_emotional": "backend_not_configured"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **routes,
            "route_emotional": "local",
            CONF_FILLER: False,
            CONF_QUIET_START: "20:00:00",
            CONF_QUIET_END: "07:00:00",
            CONF_DAILY_MINUTES: 30,
            CONF_RESUME_MINUTES: 45,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_RESUME_MINUTES] == 45
    assert entry.options[CONF_ROUTING]["spelling"] == "drill"
    assert "safety" not in entry.options[CONF_ROUTING]
    assert entry.options[CONF_FILLER] is False


async def test_options_refuse_fillers_blip_cannot_speak(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """A filler line that is short or not complete sentences is named in a form error and
    nothing is stored; fixed, the lines are kept as typed."""
    entry = await _loaded_entry(hass, openai_server)
    usable = "Hmm, let me think about that for a moment. What a great question!"
    form = {
        "route_spelling": "drill",
        "route_math": "drill",
        "route_chitchat": "local",
        "route_creative": "local",
        "route_trivia": "local",
        "route_emotional": "local",
        CONF_FILLER: True,
        CONF_QUIET_START: "20:00:00",
        CONF_QUIET_END: "07:00:00",
        CONF_DAILY_MINUTES: 30,
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **form,
            CONF_FILLERS: f"{usable}\nToo short!\n\nthis line is long enough but it never ends a sentence",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_FILLERS: "filler_unusable"}
    assert result["description_placeholders"] == {
        "lines": '"Too short!" / "this line is long enough but it never ends a sentence"'
    }
    assert not entry.options

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, CONF_FILLERS: usable}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_FILLERS] == usable


async def test_options_claude_only_family(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """With Claude alone: the local model is refused as a route, the second opinion is offered."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_API_KEY: VALID_KEY, CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
    )
    entry.add_to_hass(hass)
    routes = {
        "route_spelling": "drill",
        "route_math": "local",
        "route_chitchat": "claude",
        "route_creative": "claude",
        "route_trivia": "claude",
        "route_emotional": "claude",
    }
    form = {
        CONF_FILLER: True,
        CONF_QUIET_START: "20:00:00",
        CONF_QUIET_END: "07:00:00",
        CONF_DAILY_MINUTES: 30,
        CONF_SECOND_OPINION: False,
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_SECOND_OPINION in {str(key) for key in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**routes, **form}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"route_math": "backend_not_configured"}
    assert not entry.options  # nothing was stored

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**routes, "route_math": "drill", **form}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ROUTING]["math"] == "drill"
    assert entry.options[CONF_SECOND_OPINION] is False


async def test_a_child_needs_a_name(hass: HomeAssistant, openai_server: FakeLocalModel) -> None:
    """A blank name is refused when a child is added and when their details are changed."""
    entry = await _loaded_entry(hass, openai_server)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHILD), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**CHILD, CONF_CHILD_NAME: "   "}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CHILD_NAME: "name_required"}
    assert not entry.subentries

    result = await hass.config_entries.subentries.async_configure(result["flow_id"], CHILD)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    subentry = next(iter(entry.subentries.values()))

    result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**CHILD, CONF_CHILD_NAME: ""}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CHILD_NAME: "name_required"}
    assert entry.subentries[subentry.subentry_id].data[CONF_CHILD_NAME] == "Ada"
    assert entry.subentries[subentry.subentry_id].title == "Ada"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_unexpected_error_in_a_backend_check_is_unknown_not_a_crash(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault no server can produce (a bug in Blip or a library while checking) shows
    "unknown" on that backend's field and is logged with its trace; the form stays usable.
    The checks are patched to raise: nothing real reaches these handlers on purpose."""
    result = await _start_user_flow(hass)
    form = {
        CONF_API_KEY: VALID_KEY,
        CLAUDE_SECTION: {CONF_CLAUDE_BASE_URL: anthropic_server.base_url},
        CONF_LOCAL_URL: openai_server.base_url,
        CONF_LOCAL_API: "openai",
        CONF_LOCAL_MODEL: "blip-edu",
    }
    with (
        patch(
            "custom_components.blip.config_flow.async_validate_claude",
            side_effect=RuntimeError("claude bug"),
        ),
        patch(
            "custom_components.blip.config_flow.async_list_local_models",
            side_effect=RuntimeError("local bug"),
        ),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "unknown", CONF_LOCAL_URL: "unknown"}
    assert "Unexpected error while checking Claude" in caplog.text
    assert "Unexpected error while checking the local model server" in caplog.text
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
