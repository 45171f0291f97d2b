"""An in-process cache of API key credentials, emptied as soon as a key is revoked.

Looking a key up costs a database round trip on every request, as much as the
list query itself. The cache keeps what authentication needs for a short time,
and every process drops it when any key is revoked through Ringline:

- on PostgreSQL, revoking sends NOTIFY on REVOCATION_CHANNEL in the revoking
  transaction, and each server listens on its own connection;
- on SQLite, every process runs on the machine that stores the database file,
  so revoking touches a file beside it, whose modification time each request
  compares (one stat call).

Expiry is checked against the cached expiry on every request. A revocation
written to the database by hand, not through Ringline, reaches a running
server only when its entry ages out after ENTRY_LIFETIME_S.
"""

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger()

REVOCATION_CHANNEL = "ringline_key_revoked"
ENTRY_LIFETIME_S = 60.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Credentials:
    """The stored fields of a key that authentication checks. Times are Unix
    seconds, so a request compares them with time.time() and builds no datetime."""

    key_id: str
    workspace_id: str
    secret_hash: str
    permissions: frozenset[str]
    expires_at: float | None
    revoked: bool
    last_used_at: float | None


def revocation_marker(database_url: str) -> Path | None:
    """Return the file whose change signals SQLite servers that a key was revoked."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}.keys-revoked")


def mark_revoked(database_url: str) -> None:
    """Touch the SQLite revocation marker; call after the revocation commits."""
    marker = revocation_marker(database_url)
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(time.time_ns()))


class KeyCache:
    def __init__(self, database_url: str) -> None:
        self._entries: dict[str, tuple[Credentials, float]] = {}
        self._marker = revocation_marker(database_url)
        self._marker_state = self._read_marker()
        self._listener: asyncpg.Connection | None = None
        self._database_url = database_url
        # PostgreSQL caching waits until the listener is connected.
        self.enabled = self._marker is not None

    def _read_marker(self) -> int | None:
        if self._marker is None:
            return None
        try:
            return os.stat(self._marker).st_mtime_ns
        except FileNotFoundError:
            return 0

    def get(self, key_id: str) -> Credentials | None:
        if not self.enabled:
            return None
        if self._marker is not None:
            state = self._read_marker()
            if state != self._marker_state:
                self._marker_state = state
                self._entries.clear()
        entry = self._entries.get(key_id)
        if entry is None or time.monotonic() - entry[1] > ENTRY_LIFETIME_S:
            return None
        return entry[0]

    def put(self, credentials: Credentials) -> None:
        if not self.enabled:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[credentials.key_id] = (credentials, time.monotonic())

    def note_use(self, credentials: Credentials, used_at: float) -> None:
        entry = self._entries.get(credentials.key_id)
        if entry is not None:
            self._entries[credentials.key_id] = (
                replace(credentials, last_used_at=used_at),
                entry[1],
            )

    def _drop(self, *_args: object) -> None:
        self._entries.clear()

    def _lost_listener(self, *_args: object) -> None:
        log.warning("key_cache.listener_lost")
        self.enabled = False
        self._entries.clear()

    async def start(self) -> None:
        """Listen for revocations on PostgreSQL; without a listener, no caching."""
        url = make_url(self._database_url)
        if not url.drivername.startswith("postgres"):
            return
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            self._listener = await asyncpg.connect(dsn)
            await self._listener.add_listener(REVOCATION_CHANNEL, self._drop)
            self._listener.add_termination_listener(self._lost_listener)
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            log.warning("key_cache.listener_failed", error=str(error))
            return
        self.enabled = True

    async def stop(self) -> None:
        self.enabled = False
        if self._listener is not None:
            self._listener.remove_termination_listener(self._lost_listener)
            await self._listener.close()
            self._listener = None
