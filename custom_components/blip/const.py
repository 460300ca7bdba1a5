"""Constants for the Blip integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "blip"
LOGGER = logging.getLogger(__package__)

# Main entry data: the backends the family has.
CONF_API_KEY: Final = "api_key"  # Anthropic API key (Claude)
CONF_CLAUDE_BASE_URL: Final = "claude_base_url"  # advanced: a proxy or gateway in front of Claude
CONF_CLAUDE_MODEL: Final = "claude_model"
CONF_LOCAL_URL: Final = "local_url"  # the server that serves blip-edu
CONF_LOCAL_API: Final = "local_api"  # "openai" or "ollama"
CONF_LOCAL_MODEL: Final = "local_model"
CONF_VOICE_HOST: Final = "voice_host"  # Wyoming TTS server behind the "Blip voice" entity
CONF_VOICE_PORT: Final = "voice_port"
# Blip's Wyoming STT server on the voice host, behind "Blip listening" (stt.py); empty: none.
CONF_LISTEN_PORT: Final = "listen_port"

LOCAL_API_OPENAI: Final = "openai"
LOCAL_API_OLLAMA: Final = "ollama"
LOCAL_APIS: Final = (LOCAL_API_OPENAI, LOCAL_API_OLLAMA)

DEFAULT_CLAUDE_MODEL: Final = "claude-haiku-4-5"
DEFAULT_LOCAL_MODEL: Final = "blip-edu"
DEFAULT_VOICE_PORT: Final = 10200

# Child subentry data.
SUBENTRY_CHILD: Final = "child"
CONF_CHILD_NAME: Final = "name"
CONF_AGE: Final = "age"
CONF_SATELLITES: Final = "satellites"  # assist_satellite entity ids in the child's room
CONF_AREAS: Final = "areas"
CONF_FILLER: Final = "filler"  # speak a short filler while a slow backend thinks
CONF_DAILY_MINUTES: Final = "daily_minutes"  # 0 = no daily limit
CONF_QUIET_START: Final = "quiet_start"  # "HH:MM:SS"; quiet hours may wrap midnight
CONF_QUIET_END: Final = "quiet_end"
CONF_SCHOOL_WORDS: Final = "school_words"  # a todo entity: this week's spelling words

MIN_AGE: Final = 3
MAX_AGE: Final = 14

# Options: family-wide settings.
CONF_ROUTING: Final = "routing"  # activity -> backend ("drill", "local", "claude")
CONF_SAFETY_NOTIFY: Final = "safety_notify"  # notify services alerted on any safety signal
CONF_DESIGNATED_ADULT: Final = (
    "designated_adult"  # the one notify service told of abuse disclosures
)
CONF_FILLERS: Final = "fillers"  # extra filler sentences, one per line
# Claude also reads every turn Blip's own checks do not flag, for distress they missed.
CONF_SECOND_OPINION: Final = "second_opinion"
DEFAULT_SECOND_OPINION: Final = True
# How long an unfinished drill waits for the child on any satellite (child_session.py).
CONF_RESUME_MINUTES: Final = "resume_minutes"
DEFAULT_RESUME_MINUTES: Final = 30
CONF_LISTEN_PATIENCE: Final = "listen_patience"  # brain.end_of_turn.PATIENCE: how long Blip waits

DEFAULT_FILLER: Final = True
DEFAULT_DAILY_MINUTES: Final = 0
DEFAULT_QUIET_START: Final = "20:00:00"
DEFAULT_QUIET_END: Final = "07:00:00"

# Timeouts (seconds) for talking to the backends.
CONNECT_TIMEOUT: Final = 5.0
# Backstop for one read of a local model's stream, in seconds, for conversations and the backend
# benchmark alike; the first-token and stall deadlines (and a benchmark case's timeout) are
# the real limits and are much shorter.
LOCAL_READ_TIMEOUT: Final = 60.0
VALIDATE_TIMEOUT: Final = 10.0

EVENT_SAFETY_SIGNAL: Final = "blip_safety_signal"

# Learning progress (progress.py): events, the dispatcher signal and services.
EVENT_MILESTONE: Final = "blip_milestone"
EVENT_SESSION_ENDED: Final = "blip_session_ended"
EVENT_ITEM_MASTERED: Final = "blip_item_mastered"  # a spelling word or maths fact is mastered
SIGNAL_PROGRESS_UPDATED: Final = "blip_progress_updated_{}"  # .format(child subentry id)
SERVICE_RESET_PROGRESS: Final = "reset_progress"
SERVICE_EXPORT_PROGRESS: Final = "export_progress"
SERVICE_START_DRILL: Final = "start_drill"
ATTR_CHILD: Final = "child"  # a child's device id in service calls
ATTR_PARTS: Final = "parts"
ATTR_KIND: Final = "kind"
ATTR_SATELLITE: Final = "satellite"
