"""Pairing codes and device tokens for Blip's per-child device endpoint (no Home Assistant here).

A parent starts pairing for one child and gets a short code; a device trades the code (once,
within minutes) for a long random token that reaches only that child's Blip endpoint. Only an
HMAC of each token is kept (key: a random salt stored with them), so a leaked store does not
give a token away. A token expires when it has not been used for its ``expire_after_days``.
Failed attempts are rate-limited per client address so a code cannot be guessed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
import hashlib
import hmac
import secrets
import time
from typing import Any, Final

CODE_DIGITS: Final = 6
CODE_TTL_SECONDS: Final = 10 * 60
DEFAULT_EXPIRE_AFTER_DAYS: Final = 30
MAX_EXPIRE_AFTER_DAYS: Final = 365
# A code may be tried this many times wrongly (all clients together) before it is burnt: with a
# million codes, a guesser's chance stays below one in a hundred thousand.
MAX_CODE_FAILURES: Final = 5
# Failed pair/auth attempts allowed per client address per window, then 429 until it passes.
MAX_FAILURES_PER_WINDOW: Final = 10
FAILURE_WINDOW_SECONDS: Final = 60.0
# Turns a device may ask for per minute: more than a child can speak, fewer than a runaway loop.
MAX_TURNS_PER_MINUTE: Final = 30
MAX_DEVICE_NAME: Final = 40
TOKEN_BYTES: Final = 32
DAY: Final = 86400.0


class PairingError(Exception):
    """A code or token was refused; ``reason`` is safe to log and to show."""

    def __init__(self, reason: str) -> None:
        """Keep the reason ("unknown_code", "expired", "revoked", "rate_limited", …)."""
        super().__init__(reason)
        self.reason = reason


@dataclass
class PendingCode:
    """A code waiting for a device."""

    code: str
    child_id: str
    device_name: str
    expire_after_days: int
    created: float
    failures: int = 0

    @property
    def expires_at(self) -> float:
        """Wall-clock time after which the code is no longer accepted."""
        return self.created + CODE_TTL_SECONDS


@dataclass
class DeviceRecord:
    """A paired device, as stored: never the token itself."""

    device_id: str
    child_id: str
    name: str
    token_hash: str
    created: float
    last_used: float
    expire_after_days: int

    @property
    def expires_at(self) -> float:
        """When the token stops working if it is not used before."""
        return self.last_used + self.expire_after_days * DAY

    def public(self) -> dict[str, Any]:
        """What a parent may see in a list: no hash, no token."""
        return {
            "device_id": self.device_id,
            "child_id": self.child_id,
            "name": self.name,
            "created": self.created,
            "last_used": self.last_used,
            "expires_at": self.expires_at,
        }


class RateLimiter:
    """At most ``limit`` events per key in a sliding window."""

    def __init__(self, limit: int, window: float) -> None:
        """Allow ``limit`` events per ``window`` seconds for each key."""
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def blocked(self, key: str, now: float) -> bool:
        """Whether ``key`` has used up its window."""
        events = self._events.get(key)
        if not events:
            return False
        while events and now - events[0] >= self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return False
        return len(events) >= self.limit

    def add(self, key: str, now: float) -> None:
        """Count one event for ``key``."""
        self._events.setdefault(key, deque()).append(now)
        # Bound memory: forget keys whose events are all old.
        if len(self._events) > 1024:
            for stale in [
                k for k, v in self._events.items() if not v or now - v[-1] >= self.window
            ]:
                del self._events[stale]


def clean_device_name(name: str | None) -> str:
    """A printable, short device label ("Ada's tablet")."""
    text = " ".join(str(name or "").split())
    text = "".join(ch for ch in text if ch.isprintable())[:MAX_DEVICE_NAME]
    return text or "Device"


class PairingBook:
    """Pending codes and paired devices; the caller persists ``as_dict`` when ``dirty``."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        """Load stored data (``as_dict`` output) or start empty with a fresh salt."""
        data = data or {}
        self._salt = bytes.fromhex(data["salt"]) if data.get("salt") else secrets.token_bytes(32)
        self.devices: dict[str, DeviceRecord] = {}
        for raw in data.get("devices", []):
            try:
                record = DeviceRecord(**raw)
            except TypeError:
                continue  # a damaged record is dropped, never fatal
            self.devices[record.device_id] = record
        self._by_hash = {record.token_hash: record for record in self.devices.values()}
        self._codes: dict[str, PendingCode] = {}
        self.failures = RateLimiter(MAX_FAILURES_PER_WINDOW, FAILURE_WINDOW_SECONDS)
        self.turns = RateLimiter(MAX_TURNS_PER_MINUTE, 60.0)
        self.dirty = not data

    def as_dict(self) -> dict[str, Any]:
        """What is stored: the salt and the hashed records (codes live in memory only)."""
        return {
            "salt": self._salt.hex(),
            "devices": [asdict(record) for record in self.devices.values()],
        }

    def _hash(self, token: str) -> str:
        return hmac.new(self._salt, token.encode(), hashlib.sha256).hexdigest()

    # -- codes --------------------------------------------------------------------------------

    def start(
        self,
        child_id: str,
        device_name: str | None = None,
        expire_after_days: int = DEFAULT_EXPIRE_AFTER_DAYS,
        now: float | None = None,
    ) -> PendingCode:
        """A new single-use code for ``child_id``; an earlier pending code for them is dropped."""
        now = time.time() if now is None else now
        if not 1 <= int(expire_after_days) <= MAX_EXPIRE_AFTER_DAYS:
            raise ValueError(f"expire_after_days must be 1 to {MAX_EXPIRE_AFTER_DAYS}")
        self._drop_old_codes(now)
        for code in [c for c, p in self._codes.items() if p.child_id == child_id]:
            del self._codes[code]
        while (code := f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}") in self._codes:
            pass
        pending = PendingCode(
            code=code,
            child_id=child_id,
            device_name=clean_device_name(device_name),
            expire_after_days=int(expire_after_days),
            created=now,
        )
        self._codes[code] = pending
        return pending

    def redeem(
        self, code: str, client: str, device_name: str | None = None, now: float | None = None
    ) -> tuple[str, DeviceRecord]:
        """Trade a code for a new token (returned once, never stored) and its record."""
        now = time.time() if now is None else now
        if self.failures.blocked(client, now):
            raise PairingError("rate_limited")
        self._drop_old_codes(now)
        code = "".join(ch for ch in str(code) if ch.isdigit())
        pending = self._codes.get(code)
        if pending is None:
            self._fail(client, now)
            # Every pending code also counts the miss: a code cannot be brute-forced from many
            # addresses either.
            for other in list(self._codes.values()):
                other.failures += 1
                if other.failures >= MAX_CODE_FAILURES:
                    del self._codes[other.code]
            raise PairingError("unknown_code")
        del self._codes[code]
        token = secrets.token_urlsafe(TOKEN_BYTES)
        record = DeviceRecord(
            device_id=secrets.token_hex(6),
            child_id=pending.child_id,
            name=clean_device_name(device_name) if device_name else pending.device_name,
            token_hash=self._hash(token),
            created=now,
            last_used=now,
            expire_after_days=pending.expire_after_days,
        )
        self.devices[record.device_id] = record
        self._by_hash[record.token_hash] = record
        self.dirty = True
        return token, record

    def pending_for(self, child_id: str) -> PendingCode | None:
        """The child's code still waiting, if any."""
        return next((p for p in self._codes.values() if p.child_id == child_id), None)

    def _drop_old_codes(self, now: float) -> None:
        for code in [c for c, p in self._codes.items() if now >= p.expires_at]:
            del self._codes[code]

    # -- tokens -------------------------------------------------------------------------------

    def authenticate(
        self, token: str | None, client: str, now: float | None = None
    ) -> DeviceRecord:
        """The device a token belongs to; raises PairingError (→ 401/429) otherwise."""
        now = time.time() if now is None else now
        if self.failures.blocked(client, now):
            raise PairingError("rate_limited")
        record = self._by_hash.get(self._hash(token)) if token else None
        if record is None:
            self._fail(client, now)
            raise PairingError("unknown_token" if token else "missing_token")
        if now >= record.expires_at:
            self._remove(record)
            self._fail(client, now)
            raise PairingError("expired")
        return record

    def touch(self, record: DeviceRecord, now: float | None = None) -> None:
        """The device was used: its unused-expiry starts again."""
        record.last_used = time.time() if now is None else now
        self.dirty = True

    def allow_turn(self, record: DeviceRecord, now: float | None = None) -> bool:
        """Count a turn for the device; False when it asks too often."""
        now = time.time() if now is None else now
        if self.turns.blocked(record.device_id, now):
            return False
        self.turns.add(record.device_id, now)
        return True

    def revoke(self, device_id: str) -> DeviceRecord | None:
        """Forget a device; its token stops working at once."""
        record = self.devices.get(device_id)
        if record is not None:
            self._remove(record)
        return record

    def revoke_child(self, child_id: str) -> list[DeviceRecord]:
        """Forget every device of a child."""
        records = [r for r in self.devices.values() if r.child_id == child_id]
        for record in records:
            self._remove(record)
        return records

    def expire_unused(self, now: float | None = None) -> list[DeviceRecord]:
        """Drop devices unused past their expiry."""
        now = time.time() if now is None else now
        records = [r for r in self.devices.values() if now >= r.expires_at]
        for record in records:
            self._remove(record)
        return records

    def listing(self, child_id: str | None = None) -> list[dict[str, Any]]:
        """Paired devices (all, or one child's), safe to show."""
        return [
            r.public() for r in self.devices.values() if child_id is None or r.child_id == child_id
        ]

    def _remove(self, record: DeviceRecord) -> None:
        self.devices.pop(record.device_id, None)
        self._by_hash.pop(record.token_hash, None)
        self.dirty = True

    def _fail(self, client: str, now: float) -> None:
        self.failures.add(client, now)
