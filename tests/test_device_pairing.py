"""Pairing codes and device tokens (pure logic: no Home Assistant)."""

from __future__ import annotations

import json

import pytest

from custom_components.blip.device_api.pairing import (
    CODE_TTL_SECONDS,
    DAY,
    MAX_CODE_FAILURES,
    MAX_FAILURES_PER_WINDOW,
    MAX_TURNS_PER_MINUTE,
    PairingBook,
    PairingError,
)

NOW = 1_800_000_000.0


def test_a_code_pairs_one_device_once_and_only_for_its_child() -> None:
    book = PairingBook()
    pending = book.start("child-ada", "Ada's tablet", now=NOW)
    assert len(pending.code) == 6 and pending.code.isdigit()

    token, record = book.redeem(pending.code, "10.0.0.5", now=NOW + 5)
    assert record.child_id == "child-ada" and record.name == "Ada's tablet"
    assert book.authenticate(token, "10.0.0.5", now=NOW + 6) is record

    with pytest.raises(PairingError) as err:
        book.redeem(pending.code, "10.0.0.5", now=NOW + 7)
    assert err.value.reason == "unknown_code"


def test_a_code_expires_and_a_new_one_replaces_the_old() -> None:
    book = PairingBook()
    old = book.start("child-ada", now=NOW)
    new = book.start("child-ada", now=NOW + 1)
    assert book.pending_for("child-ada") is new
    assert old.code not in {p.code for p in [book.pending_for("child-ada")] if p is not None} or (
        old.code == new.code
    )
    with pytest.raises(PairingError) as err:
        book.redeem(new.code, "b", now=NOW + 1 + CODE_TTL_SECONDS)
    assert err.value.reason == "unknown_code"


def test_wrong_codes_burn_the_pending_code_and_rate_limit_the_guesser() -> None:
    book = PairingBook()
    pending = book.start("child-ada", now=NOW)
    wrong = f"{(int(pending.code) + 1) % 1_000_000:06d}"
    for attempt in range(MAX_CODE_FAILURES):
        with pytest.raises(PairingError):
            book.redeem(wrong, f"guesser-{attempt}", now=NOW + 1)
    # Guessed from many addresses: the real code is burnt too.
    with pytest.raises(PairingError) as err:
        book.redeem(pending.code, "parent", now=NOW + 2)
    assert err.value.reason == "unknown_code"

    for _ in range(MAX_FAILURES_PER_WINDOW):
        with pytest.raises(PairingError):
            book.authenticate("not-a-token", "guesser", now=NOW + 3)
    with pytest.raises(PairingError) as err:
        book.authenticate("not-a-token", "guesser", now=NOW + 4)
    assert err.value.reason == "rate_limited"
    # A minute later the address may try again.
    with pytest.raises(PairingError) as err:
        book.authenticate("not-a-token", "guesser", now=NOW + 70)
    assert err.value.reason == "unknown_token"


def test_tokens_are_stored_only_as_salted_hashes() -> None:
    book = PairingBook()
    token, record = book.redeem(book.start("child-ada", now=NOW).code, "a", now=NOW)
    stored = json.dumps(book.as_dict())
    assert token not in stored and record.token_hash in stored
    assert "token_hash" not in json.dumps(book.listing())

    reloaded = PairingBook(json.loads(stored))
    assert reloaded.authenticate(token, "a", now=NOW + 1).device_id == record.device_id
    # Another store's salt: the same token means nothing there.
    with pytest.raises(PairingError):
        PairingBook().authenticate(token, "a", now=NOW + 1)


def test_revoked_and_long_unused_tokens_stop_working() -> None:
    book = PairingBook()
    token_a, a = book.redeem(book.start("child-ada", now=NOW).code, "x", now=NOW)
    pending = book.start("child-ben", expire_after_days=2, now=NOW)
    token_b, b = book.redeem(pending.code, "x", now=NOW)

    assert book.revoke(a.device_id) is a
    with pytest.raises(PairingError) as err:
        book.authenticate(token_a, "x", now=NOW + 1)
    assert err.value.reason == "unknown_token"

    book.touch(b, now=NOW + DAY)  # used a day later: two more days from then
    assert book.authenticate(token_b, "x", now=NOW + 2.5 * DAY) is b
    with pytest.raises(PairingError) as err:
        book.authenticate(token_b, "x", now=NOW + 3 * DAY)
    assert err.value.reason == "expired"
    assert book.listing() == []


def test_a_device_asking_too_often_is_slowed_down() -> None:
    book = PairingBook()
    _, record = book.redeem(book.start("child-ada", now=NOW).code, "x", now=NOW)
    assert all(book.allow_turn(record, now=NOW + i * 0.1) for i in range(MAX_TURNS_PER_MINUTE))
    assert not book.allow_turn(record, now=NOW + 5)
    assert book.allow_turn(record, now=NOW + 61)


def test_expiry_is_bounded() -> None:
    with pytest.raises(ValueError):
        PairingBook().start("child-ada", expire_after_days=0)
