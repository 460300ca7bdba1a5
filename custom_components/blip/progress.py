"""Learning progress per child, kept in Home Assistant's storage and pushed to entities.

One store file per child (``.storage/blip.progress.<child id>``), so a damaged file costs at most
that one child's progress. Saves are debounced; Home Assistant writes pending saves when it
stops, and Blip writes them when the entry unloads. Only structured facts are stored (see
``progress_model``): never a transcript.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
import os
from typing import TYPE_CHECKING, Any, Final

from homeassistant import exceptions as ha_exceptions
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_time_change
from homeassistant.helpers.json import save_json
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads

from .brain.drills import DrillResult
from .brain.item_memory import ItemMemory
from .brain.practice_planner import MemoryPicker
from .const import (
    CONF_CHILD_NAME,
    CONF_DAILY_MINUTES,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_SATELLITES,
    DEFAULT_DAILY_MINUTES,
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DOMAIN,
    EVENT_ITEM_MASTERED,
    EVENT_MILESTONE,
    EVENT_SESSION_ENDED,
    LOGGER,
    SIGNAL_PROGRESS_UPDATED,
    SUBENTRY_CHILD,
)
from .progress_export import export_progress, milestone_announcement
from .progress_model import (
    RESET_PARTS,
    SESSION_IDLE_GAP,
    ChildProgress,
    ItemRecord,
    LimitSettings,
    LimitVerdict,
    Milestone,
    SessionSummary,
    parse_time_of_day,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry

    from . import BlipConfigEntry

__all__ = ["LimitVerdict", "ProgressManager"]

STORAGE_VERSION: Final = 1
# 1.2 adds each item's scheduler memory; 1.1 records get theirs from their counts when read
# (progress_model.migrated_memory) and are written back as 1.2.
STORAGE_MINOR_VERSION: Final = 2
STORAGE_KEY_PREFIX: Final = f"{DOMAIN}.progress."
# Lists the children that have a progress file, so a removed child's file is removed too.
STORAGE_INDEX_KEY: Final = f"{DOMAIN}.progress"
# Progress changes every turn; writing at most every few seconds is plenty.
SAVE_DELAY: Final = 10

ISSUE_UNREADABLE: Final = "progress_unreadable"
ISSUE_DAMAGED: Final = "progress_damaged"
# The file could not be read and could not be moved aside: kept, and not saved over.
ISSUE_READ_ONLY: Final = "progress_read_only"


class UnsupportedProgressVersion(HomeAssistantError):
    """The progress file was written by a newer Blip with a different layout."""


# Since 2026.3 Home Assistant's Store refuses a newer major version itself, before Blip's
# migration runs; 2026.2 leaves it to the migration (UnsupportedProgressVersion below).
_NEWER_STORE_VERSION: type[HomeAssistantError] = getattr(
    ha_exceptions, "UnsupportedStorageVersionError", UnsupportedProgressVersion
)


def _unsupported_reason(err: HomeAssistantError) -> str:
    """Say what the family can act on: a newer Blip wrote it (not "upgrade Home Assistant")."""
    found = getattr(err, "found_version", None)
    if found is None:
        return str(err)
    return f"progress file has layout version {found}, this Blip reads version {STORAGE_VERSION}"


class _ProgressStore(Store[dict[str, Any]]):
    """A child's progress file, with Blip's migrations."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring old layouts up to date.

        Minor versions only ever add sections, and sections missing from a file start empty
        when read, so data of any 1.x layout is read as it is (a newer 1.x keeps working after
        a downgrade). A different major version is a layout this Blip cannot read.
        """
        if old_major_version != STORAGE_VERSION:
            raise UnsupportedProgressVersion(
                f"progress file has layout version {old_major_version}, "
                f"this Blip reads version {STORAGE_VERSION}"
            )
        return old_data


@dataclass
class _Child:
    """One child's live progress and its file."""

    child_id: str
    name: str
    satellites: list[str]
    settings: LimitSettings
    store: _ProgressStore
    progress: ChildProgress = field(default_factory=ChildProgress)
    unsaved: bool = False
    cancel_session_timer: CALLBACK_TYPE | None = None
    school_words: list[str] = field(default_factory=list)


class ProgressManager:
    """Every child's progress for one Blip entry (``entry.runtime_data.progress``).

    The agent calls ``check_limits`` before answering a turn (never needed for safety turns,
    and harmless: a safety activity is always allowed), ``record_turn`` for each answered turn
    and ``record_drill_results`` with the drill engine's results. Entities listen on
    ``signal(child_id)``.
    """

    def __init__(self, hass: HomeAssistant, entry: BlipConfigEntry) -> None:
        """Prepare; nothing is read until ``async_load``."""
        self.hass = hass
        self.entry = entry
        self._children: dict[str, _Child] = {}
        self._unsubscribes: list[CALLBACK_TYPE] = []

    # --- life cycle ---------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read every child's progress, recovering what can be recovered from damaged files."""
        for subentry in self.entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_CHILD:
                continue
            child = self._new_child(subentry)
            child.progress = await self._async_read(child)
            self._children[child.child_id] = child
        await self._async_forget_removed_children()
        self._unsubscribes.append(
            async_track_time_change(self.hass, self._async_new_day, hour=0, minute=0, second=0)
        )
        # Sessions left open by a restart: close them (firing their event once Home Assistant
        # has started, so automations hear it) or wait for their idle gap as usual.
        self._unsubscribes.append(async_at_started(self.hass, self._async_resume_sessions))

    async def async_unload(self) -> None:
        """Stop timers and write unsaved progress now (a reload reads the file at once)."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        for child in self._children.values():
            if child.cancel_session_timer:
                child.cancel_session_timer()
                child.cancel_session_timer = None
            if child.unsaved:
                child.unsaved = False
                await child.store.async_save(child.progress.to_dict())

    async def async_remove_all(self) -> None:
        """Blip itself is removed: remove every child's progress file."""
        index = Store[dict[str, Any]](self.hass, STORAGE_VERSION, STORAGE_INDEX_KEY)
        stored = await index.async_load() or {}
        child_ids = set(stored.get("children", [])) | set(self._children)
        for child_id in child_ids:
            await _ProgressStore(
                self.hass, STORAGE_VERSION, STORAGE_KEY_PREFIX + child_id
            ).async_remove()
        await index.async_remove()

    # --- the agent's API ----------------------------------------------------------------------

    @callback
    def record_turn(self, child_id: str, activity: str, satellite_id: str | None) -> None:
        """Count one answered turn: session, minutes today, last activity, streak."""
        if (child := self._child(child_id)) is None:
            return
        now = dt_util.utcnow()
        outcome = child.progress.record_turn(now, _local_day(now), str(activity), satellite_id)
        if outcome.ended_session is not None:
            self._fire_session_ended(child, outcome.ended_session)
        self._fire_milestones(child, outcome.milestones)
        self._restart_session_timer(child)
        self._changed(child)

    @callback
    def record_drill_results(self, child_id: str, results: Sequence[DrillResult]) -> None:
        """Count drill answers: words and maths facts, mastery, milestones."""
        if not results or (child := self._child(child_id)) is None:
            return
        now = dt_util.utcnow()
        milestones, _ = child.progress.record_drill_results(results, _local_day(now), now)
        for kind, item in child.progress.newly_mastered:
            self.hass.bus.async_fire(
                EVENT_ITEM_MASTERED,
                {"child_id": child.child_id, "child": child.name, "kind": kind, "item": item},
            )
        self._fire_milestones(child, milestones)
        self._changed(child)

    def practice_picker(self, child_id: str) -> MemoryPicker | None:
        """Chooses the child's next drill items from their memory (live, as they answer)."""
        if (child := self._children.get(child_id)) is None:
            return None
        return MemoryPicker(
            spelling=_Memories(child.progress.words),
            math=_Memories(child.progress.math_facts),
            now=dt_util.utcnow,
            school_words=tuple(self.school_words(child_id)),
        )

    def school_words(self, child_id: str) -> list[str]:
        """This week's words from school (the child's to-do list), not yet mastered."""
        child = self._children.get(child_id)
        if child is None:
            return []
        return [
            word
            for word in child.school_words
            if (record := child.progress.words.get(word)) is None or record.mastered_on is None
        ]

    def set_school_words(self, child_id: str, words: Iterable[str]) -> None:
        """The words on the child's school list now (read from their to-do list)."""
        if (child := self._children.get(child_id)) is not None:
            child.school_words = list(dict.fromkeys(words))

    @callback
    def check_limits(self, child_id: str, activity: str | None = None) -> LimitVerdict:
        """May Blip play with this child now?

        A safety activity is always allowed. An unknown child is allowed too: a configuration
        slip must not leave a child in silence.
        """
        if (child := self._child(child_id)) is None:
            return LimitVerdict(allowed=True)
        reminded_before = (
            child.progress.session is not None and child.progress.session.break_reminded
        )
        verdict = child.progress.check_limits(
            dt_util.now(), child.settings, child.name, None if activity is None else str(activity)
        )
        if verdict.break_reminder and not reminded_before:
            self._changed(child, notify_entities=False)
        return verdict

    # --- switches, services and sensors -------------------------------------------------------

    @staticmethod
    def signal(child_id: str) -> str:
        """The dispatcher signal sent whenever this child's progress changes."""
        return SIGNAL_PROGRESS_UPDATED.format(child_id)

    @property
    def child_ids(self) -> list[str]:
        """Children with progress."""
        return list(self._children)

    def progress(self, child_id: str) -> ChildProgress | None:
        """A child's progress (read only, please)."""
        child = self._children.get(child_id)
        return child.progress if child else None

    def child_name(self, child_id: str) -> str | None:
        """A child's name."""
        child = self._children.get(child_id)
        return child.name if child else None

    def satellite_for(self, child_id: str) -> str | None:
        """The satellite to talk to the child on: the one last used, else the first configured."""
        if (child := self._children.get(child_id)) is None:
            return None
        return child.progress.last_satellite or next(iter(child.satellites), None)

    @callback
    def set_paused(self, child_id: str, paused: bool) -> None:
        """Pause or resume Blip for a child."""
        if (child := self._child(child_id)) is None:
            return
        child.progress.paused = paused
        self._changed(child)

    @callback
    def reset(self, child_id: str, parts: Iterable[str] = RESET_PARTS) -> None:
        """Forget some or all of a child's progress."""
        if (child := self._child(child_id)) is None:
            return
        child.progress.reset(parts)
        if child.progress.session is None and child.cancel_session_timer:
            child.cancel_session_timer()
            child.cancel_session_timer = None
        self._changed(child)

    def export(self, child_id: str) -> dict[str, Any]:
        """A child's progress as JSON-ready data."""
        child = self._children[child_id]
        now = dt_util.utcnow()
        return {
            "child_id": child_id,
            "name": child.name,
            "exported_at": now.isoformat(),
            **export_progress(child.progress, _local_day(now)),
        }

    def as_diagnostics(self) -> dict[str, Any]:
        """Health figures for diagnostics: counts only, no words, no names."""
        return {
            child_id: {
                "words": len(child.progress.words),
                "math_facts": len(child.progress.math_facts),
                "days": len(child.progress.days),
                "session_open": child.progress.session is not None,
                "paused": child.progress.paused,
            }
            for child_id, child in self._children.items()
        }

    # --- inside -------------------------------------------------------------------------------

    def _new_child(self, subentry: ConfigSubentry) -> _Child:
        name = str(subentry.data.get(CONF_CHILD_NAME) or subentry.title)
        return _Child(
            child_id=subentry.subentry_id,
            name=name,
            satellites=list(subentry.data.get(CONF_SATELLITES) or []),
            settings=self._limit_settings(subentry, name),
            store=_ProgressStore(
                self.hass,
                STORAGE_VERSION,
                STORAGE_KEY_PREFIX + subentry.subentry_id,
                minor_version=STORAGE_MINOR_VERSION,
                atomic_writes=True,
            ),
        )

    def _limit_settings(self, subentry: ConfigSubentry, name: str) -> LimitSettings:
        """The child's own limits, else the family defaults, else Blip's defaults."""
        options = self.entry.options

        def setting(key: str, default: Any) -> Any:
            value = subentry.data.get(key)
            return value if value is not None else options.get(key, default)

        try:
            daily_minutes = max(0, int(setting(CONF_DAILY_MINUTES, DEFAULT_DAILY_MINUTES)))
        except (TypeError, ValueError):
            LOGGER.warning("%s's daily minutes setting is not a number; no daily limit", name)
            daily_minutes = 0
        try:
            quiet_start = parse_time_of_day(setting(CONF_QUIET_START, DEFAULT_QUIET_START))
            quiet_end = parse_time_of_day(setting(CONF_QUIET_END, DEFAULT_QUIET_END))
        except ValueError as err:
            LOGGER.warning("%s's quiet hours are not valid, so none apply: %s", name, err)
            quiet_start = quiet_end = None
        return LimitSettings(daily_minutes, quiet_start, quiet_end)

    async def _async_read(self, child: _Child) -> ChildProgress:
        """Read a child's file; whatever is damaged starts fresh, the rest is kept."""
        stamp = dt_util.utcnow().strftime("%Y%m%dT%H%M%SZ")
        path = child.store.path
        try:
            # Home Assistant's Store would rename an unparsable file too, but report it as a
            # generic storage problem; Blip says whose progress it was and what it means.
            unreadable = await self.hass.async_add_executor_job(
                _set_aside_if_unreadable, path, stamp
            )
            if unreadable is not None:
                # Moved out of the way, so the fresh progress below is saved as usual.
                backup, reason = unreadable
                self._report_unreadable(child, backup, reason)
                return ChildProgress()
            raw = await child.store.async_load()
        except (UnsupportedProgressVersion, _NEWER_STORE_VERSION) as err:
            backup = await self.hass.async_add_executor_job(_set_aside, path, stamp, "unsupported")
            self._report_unreadable(child, backup, _unsupported_reason(err))
            return ChildProgress()
        except Exception as err:
            # Without a backup the file must not be overwritten: keep it read only until the
            # family has looked at it.
            child.store.make_read_only()
            LOGGER.exception(
                "Could not read %s's progress file %s; it is kept and not saved over",
                child.name,
                path,
            )
            self._report_unreadable(
                child, path, f"{type(err).__name__}: {err}", issue=ISSUE_READ_ONLY
            )
            return ChildProgress()
        if raw is None:
            return ChildProgress()
        progress, damaged = ChildProgress.from_dict(raw)
        if damaged:
            backup = await self.hass.async_add_executor_job(
                _write_backup, f"{path}.damaged.{stamp}", raw
            )
            LOGGER.error(
                "Parts of %s's progress were damaged and start fresh: %s. Everything else is "
                "kept. The damaged file was saved as %s",
                child.name,
                ", ".join(damaged),
                backup,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_DAMAGED}_{child.child_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_DAMAGED,
                translation_placeholders={
                    "child": child.name,
                    "parts": ", ".join(damaged),
                    "backup": backup,
                },
            )
            await child.store.async_save(progress.to_dict())
        return progress

    def _report_unreadable(
        self, child: _Child, backup: str, reason: str, issue: str = ISSUE_UNREADABLE
    ) -> None:
        if issue == ISSUE_UNREADABLE:
            LOGGER.error(
                "Blip could not read %s's progress (%s). The file was kept as %s and %s starts "
                "with fresh progress; other children are not affected",
                child.name,
                reason,
                backup,
                child.name,
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{issue}_{child.child_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=issue,
            translation_placeholders={"child": child.name, "backup": backup, "reason": reason},
        )

    async def _async_forget_removed_children(self) -> None:
        """Remove the files of children the family removed; note who has a file now."""
        index = Store[dict[str, Any]](self.hass, STORAGE_VERSION, STORAGE_INDEX_KEY)
        try:
            stored = await index.async_load() or {}
            known = {str(child_id) for child_id in stored.get("children", [])}
        except (HomeAssistantError, AttributeError, TypeError) as err:
            LOGGER.warning("Blip's list of progress files could not be read: %s", err)
            known = set()
        for child_id in known - set(self._children):
            LOGGER.info("Removing the progress of a child who is no longer set up (%s)", child_id)
            await _ProgressStore(
                self.hass, STORAGE_VERSION, STORAGE_KEY_PREFIX + child_id
            ).async_remove()
        if known != set(self._children):
            await index.async_save({"children": sorted(self._children)})

    def _child(self, child_id: str) -> _Child | None:
        child = self._children.get(child_id)
        if child is None:
            LOGGER.warning("Progress asked about an unknown child %s", child_id)
        return child

    @callback
    def _changed(self, child: _Child, notify_entities: bool = True) -> None:
        child.unsaved = True
        progress = child.progress

        def data() -> dict[str, Any]:
            child.unsaved = False
            return progress.to_dict()

        child.store.async_delay_save(data, SAVE_DELAY)
        if notify_entities:
            async_dispatcher_send(self.hass, self.signal(child.child_id))

    @callback
    def _restart_session_timer(self, child: _Child) -> None:
        if child.cancel_session_timer:
            child.cancel_session_timer()
        session = child.progress.session
        if session is None:
            child.cancel_session_timer = None
            return
        delay = max(0.0, (session.last_turn + SESSION_IDLE_GAP - dt_util.utcnow()).total_seconds())

        @callback
        def session_idle(_: datetime) -> None:
            child.cancel_session_timer = None
            self._end_idle_session(child)

        child.cancel_session_timer = async_call_later(self.hass, delay, session_idle)

    @callback
    def _end_idle_session(self, child: _Child) -> None:
        summary = child.progress.end_session_if_idle(dt_util.utcnow())
        if summary is None:
            # The clock moved oddly; look again when the gap has really passed.
            self._restart_session_timer(child)
            return
        self._fire_session_ended(child, summary)
        self._changed(child)

    @callback
    def _async_resume_sessions(self, _: HomeAssistant) -> None:
        for child in self._children.values():
            if child.progress.session is not None:
                self._end_idle_session(child)

    @callback
    def _async_new_day(self, _: datetime) -> None:
        """Midnight: "today" sensors start again at zero and a missed day breaks the streak."""
        for child_id in self._children:
            async_dispatcher_send(self.hass, self.signal(child_id))

    def _fire_milestones(self, child: _Child, milestones: Iterable[Milestone]) -> None:
        for milestone in milestones:
            self.hass.bus.async_fire(
                EVENT_MILESTONE,
                {
                    "child_id": child.child_id,
                    "child": child.name,
                    "milestone": milestone.kind,
                    "value": milestone.value,
                    "word": milestone.word,
                    "satellite": self.satellite_for(child.child_id),
                    "announcement": milestone_announcement(milestone, child.name),
                },
            )

    def _fire_session_ended(self, child: _Child, summary: SessionSummary) -> None:
        self.hass.bus.async_fire(
            EVENT_SESSION_ENDED,
            {
                "child_id": child.child_id,
                "child": child.name,
                "started": summary.started.isoformat(),
                "ended": summary.ended.isoformat(),
                "minutes": summary.minutes,
                "turns": summary.turns,
                "drills_attempted": summary.drills_attempted,
                "drills_correct": summary.drills_correct,
                "words_mastered": summary.words_mastered,
            },
        )


class _Memories(Mapping[str, ItemMemory]):
    """A live view of a child's item records as the planner's item -> memory mapping."""

    def __init__(self, records: Mapping[str, ItemRecord]) -> None:
        self._records = records

    def __getitem__(self, item: str) -> ItemMemory:
        record = self._records[item]
        if record.memory is None:
            raise KeyError(item)
        return record.memory

    def __iter__(self) -> Iterator[str]:
        return (item for item, record in self._records.items() if record.memory is not None)

    def __len__(self) -> int:
        return sum(1 for record in self._records.values() if record.memory is not None)


def _local_day(moment: datetime) -> date:
    return dt_util.as_local(moment).date()


def _set_aside_if_unreadable(path: str, stamp: str) -> tuple[str, str] | None:
    """Move a file that is not a store file at all out of the way: (where it went, why).

    None when the file is missing or has the store's shape (an object with an integer
    layout version and a data object); its contents are then read section by section.
    """
    try:
        with open(path, "rb") as file:
            content = file.read()
    except FileNotFoundError:
        return None
    try:
        stored = json_loads(content)
    except ValueError:
        return _set_aside(path, stamp, "corrupt"), "the file is not valid JSON"
    if (reason := store_shape_problem(stored)) is not None:
        return _set_aside(path, stamp, "corrupt"), reason
    return None


def store_shape_problem(stored: Any) -> str | None:
    """Why JSON is not a Home Assistant store file of Blip's progress, or None if it is."""
    if not isinstance(stored, dict):
        kind = "nothing" if stored is None else f"a {type(stored).__name__}"
        return f"the file holds {kind} instead of a child's progress"
    version = stored.get("version")
    if version is None:
        return "the file has no layout version"
    if isinstance(version, bool) or not isinstance(version, int):
        return f"the file's layout version is not a whole number ({version!r})"
    minor = stored.get("minor_version", 1)
    if isinstance(minor, bool) or not isinstance(minor, int):
        return f"the file's minor layout version is not a whole number ({minor!r})"
    if not isinstance(stored.get("data"), dict):
        return "the file has no progress data"
    return None


def _set_aside(path: str, stamp: str, label: str) -> str:
    backup = f"{path}.{label}.{stamp}"
    try:
        os.replace(path, backup)
    except FileNotFoundError:
        return path
    return backup


def _write_backup(path: str, data: Any) -> str:
    save_json(path, data)
    return path
