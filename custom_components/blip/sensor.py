"""Progress sensors, one set per child: pushed when progress changes, never polled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import PERCENTAGE, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from . import BlipConfigEntry
from .entity import BlipProgressEntity, async_add_child_entities
from .progress_model import KIND_SPELLING, ChildProgress
from .timing_sensors import async_setup_timing_sensors

# Every sensor is pushed from Blip's own state (never polled): nothing to throttle.
PARALLEL_UPDATES = 0

# Accuracy and "today" figures are computed when read, so updates cost nothing until shown.
type ValueFn = Callable[[ChildProgress, date], StateType | datetime]
type AttributesFn = Callable[[ChildProgress, date], dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class BlipProgressSensorDescription(SensorEntityDescription):
    """A progress sensor: how to read its value (and attributes) from a child's progress."""

    value_fn: ValueFn
    attributes_fn: AttributesFn | None = None


def _spelling_attributes(progress: ChildProgress, today: date) -> dict[str, Any]:
    attempts, correct, hints = progress.spelling_totals()
    day = progress.days.get(today)
    return {
        "attempts": attempts,
        "correct": correct,
        "hints_used": hints,
        "attempts_today": day.spelling_attempts if day else 0,
        "correct_today": day.spelling_correct if day else 0,
    }


def _math_attributes(progress: ChildProgress, today: date) -> dict[str, Any]:
    attempts, correct, hints = progress.math_totals()
    day = progress.days.get(today)
    return {
        "attempts": attempts,
        "correct": correct,
        "hints_used": hints,
        "attempts_today": day.math_attempts if day else 0,
        "correct_today": day.math_correct if day else 0,
        "by_operation": progress.math_by_operation(),
    }


# Lists in attributes stay short: a dashboard shows a few words, not the whole history.
LISTED_WORDS: Final = 10


def _end_of_today(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time.min, dt_util.get_default_time_zone())


def _words_due(progress: ChildProgress, today: date) -> int:
    return len(progress.items_due(KIND_SPELLING, _end_of_today(today)))


def _words_due_attributes(progress: ChildProgress, today: date) -> dict[str, Any]:
    return {
        "words": progress.items_due(KIND_SPELLING, _end_of_today(today))[:LISTED_WORDS],
        "weakest": progress.weakest(KIND_SPELLING, dt_util.utcnow(), LISTED_WORDS // 2),
    }


SENSORS: tuple[BlipProgressSensorDescription, ...] = (
    BlipProgressSensorDescription(
        key="words_due",
        translation_key="words_due",
        native_unit_of_measurement="words",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_words_due,
        attributes_fn=_words_due_attributes,
    ),
    BlipProgressSensorDescription(
        key="math_facts_mastered",
        translation_key="math_facts_mastered",
        native_unit_of_measurement="facts",
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda progress, _: progress.math_facts_mastered,
        attributes_fn=lambda progress, _: {"by_table": progress.math_mastered_by_table()},
    ),
    BlipProgressSensorDescription(
        key="spelling_accuracy",
        translation_key="spelling_accuracy",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda progress, _: progress.accuracy(progress.spelling_totals()),
        attributes_fn=_spelling_attributes,
    ),
    BlipProgressSensorDescription(
        key="words_mastered",
        translation_key="words_mastered",
        native_unit_of_measurement="words",
        # A running total that only a reset (the family's choice) takes down.
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda progress, _: progress.words_mastered,
    ),
    BlipProgressSensorDescription(
        key="math_accuracy",
        translation_key="math_accuracy",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda progress, _: progress.accuracy(progress.math_totals()),
        attributes_fn=_math_attributes,
    ),
    BlipProgressSensorDescription(
        key="streak",
        translation_key="streak",
        native_unit_of_measurement="days",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda progress, today: progress.streak_on(today),
        attributes_fn=lambda progress, _: {"best": progress.streak_best},
    ),
    BlipProgressSensorDescription(
        key="minutes_today",
        translation_key="minutes_today",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        # Starts again at 0 each midnight: a new cycle for the statistics.
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0,
        value_fn=lambda progress, today: progress.minutes_on(today),
    ),
    BlipProgressSensorDescription(
        key="sessions_today",
        translation_key="sessions_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda progress, today: progress.sessions_on(today),
    ),
    BlipProgressSensorDescription(
        key="last_activity",
        translation_key="last_activity",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda progress, _: progress.last_activity,
        attributes_fn=lambda progress, _: {"activity": progress.last_activity_kind},
    ),
    BlipProgressSensorDescription(
        key="latest_mastered_word",
        translation_key="latest_mastered_word",
        value_fn=lambda progress, _: progress.latest_mastered_word,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Progress sensors on each child's device; voice turn timings on Blip's own device."""
    async_add_child_entities(
        entry,
        async_add_entities,
        lambda subentry: [BlipProgressSensor(entry, subentry, d) for d in SENSORS],
    )
    await async_setup_timing_sensors(hass, entry, async_add_entities)


class BlipProgressSensor(BlipProgressEntity, SensorEntity):
    """One figure of a child's learning progress."""

    entity_description: BlipProgressSensorDescription

    def __init__(
        self,
        entry: BlipConfigEntry,
        subentry: ConfigSubentry,
        description: BlipProgressSensorDescription,
    ) -> None:
        """Tie the sensor to the child and to its figure."""
        super().__init__(entry, subentry)
        self.entity_description = description
        self._attr_unique_id = f"{subentry.subentry_id}_{description.key}"

    @property
    def _progress(self) -> ChildProgress | None:
        return self.entry.runtime_data.progress.progress(self.subentry.subentry_id)

    @property
    def available(self) -> bool:
        """Available while the child's progress is loaded."""
        return self._progress is not None

    @property
    def native_value(self) -> StateType | datetime:
        """The figure now."""
        if (progress := self._progress) is None:
            return None
        return self.entity_description.value_fn(progress, dt_util.now().date())

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details behind the figure."""
        if (progress := self._progress) is None or self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(progress, dt_util.now().date())
