"""API keys: creation, listing, revocation and authentication of bearer tokens."""

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.core.errors import InvalidRequest, NotFound, Unauthorized
from ringline.core.ids import new_key_id
from ringline.core.time import utc_now
from ringline.keys import repository
from ringline.keys.cache import REVOCATION_CHANNEL, Credentials, KeyCache
from ringline.keys.models import ApiKey
from ringline.workspaces.service import require_workspace

PERMISSIONS = (
    "calls:read",
    "calls:write",
    "agents:read",
    "agents:write",
    "webhooks:read",
    "webhooks:write",
)
TOKEN_PATTERN = re.compile(r"([a-z0-9]{14}):([A-Za-z0-9_-]{32,128})")
SECRET_BYTES = 32

# last_used_at is written at most this often, so that reads do not become writes.
LAST_USED_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a key and the workspace it belongs to."""

    key_id: str
    workspace_id: str
    permissions: frozenset[str]
    # Whether last_used_at is older than LAST_USED_RESOLUTION and wants a write.
    last_use_is_stale: bool = False


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash is enough: there is nothing to
    # brute-force that a slow hash would protect.
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_permissions(value: str | None) -> list[str]:
    """Parse a comma-separated permission list; None means all of them."""
    if value is None:
        return list(PERMISSIONS)
    requested = [item.strip() for item in value.split(",") if item.strip()]
    if not requested:
        raise InvalidRequest(
            "permissions is empty; name at least one of "
            f"{', '.join(PERMISSIONS)}, or leave the option out for all of them"
        )
    unknown = [item for item in requested if item not in PERMISSIONS]
    if unknown:
        raise InvalidRequest(
            f"unknown permission {', '.join(unknown)}; "
            f"expected some of {', '.join(PERMISSIONS)}"
        )
    return sorted(set(requested), key=PERMISSIONS.index)


async def create_key(
    session: AsyncSession,
    workspace_id: str,
    name: str = "default",
    permissions: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its token, which is shown only this once."""
    await require_workspace(session, workspace_id)
    if expires_at is not None and expires_at <= utc_now():
        raise InvalidRequest("the expiry must be in the future")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        id=new_key_id(),
        workspace_id=workspace_id,
        name=name,
        secret_hash=hash_secret(secret),
        permissions=permissions if permissions is not None else list(PERMISSIONS),
        created_at=utc_now(),
        expires_at=expires_at,
    )
    await repository.add_key(session, key)
    return key, f"{key.id}:{secret}"


async def list_keys(session: AsyncSession, workspace_id: str) -> list[ApiKey]:
    await require_workspace(session, workspace_id)
    return await repository.list_keys(session, workspace_id)


async def revoke_key(session: AsyncSession, key_id: str) -> ApiKey:
    """Revoke a key. On PostgreSQL, servers are notified at commit to drop cached
    keys. On SQLite the caller calls cache.mark_revoked after the commit."""
    key = await repository.get_key(session, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at = utc_now()
        await session.flush()
        await repository.notify_revocation(session, REVOCATION_CHANNEL, key_id)
    return key


def _is_usable(key: Credentials, secret: str, now: float) -> bool:
    if not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
        return False
    if key.revoked:
        return False
    return key.expires_at is None or key.expires_at > now


def _unix_time(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


async def _load_credentials(
    sessionmaker: async_sessionmaker[AsyncSession],
    key_id: str,
    cache: KeyCache | None,
) -> Credentials | None:
    """Read a key's credentials from the database and put them in the cache."""
    async with sessionmaker() as session:
        row = await repository.get_credentials(session, key_id)
    if row is None:
        return None
    credentials = Credentials(
        key_id=row.id,
        workspace_id=row.workspace_id,
        secret_hash=row.secret_hash,
        permissions=frozenset(row.permissions),
        expires_at=_unix_time(row.expires_at),
        revoked=row.revoked_at is not None,
        last_used_at=_unix_time(row.last_used_at),
    )
    if cache is not None:
        cache.put(credentials)
    return credentials


async def authenticate(
    sessionmaker: async_sessionmaker[AsyncSession],
    authorization: str | None,
    cache: KeyCache | None = None,
) -> Principal:
    """Return the principal of an `Authorization: Bearer <key_id>:<secret>` header.

    Raises Unauthorized for a missing or malformed header and for an unknown,
    revoked or expired key. It only reads: the caller records the use.
    """
    scheme, _, token = (authorization or "").strip().partition(" ")
    match = TOKEN_PATTERN.fullmatch(token.strip())
    if scheme.lower() != "bearer" or match is None:
        raise Unauthorized()

    key_id, secret = match.groups()
    # A cached key is read without awaiting a coroutine, the common case.
    key = cache.get(key_id) if cache is not None else None
    if key is None:
        key = await _load_credentials(sessionmaker, key_id, cache)
    now = time.time()
    if key is None or not _is_usable(key, secret, now):
        raise Unauthorized()

    stale = key.last_used_at is None or now - key.last_used_at >= LAST_USED_SECONDS
    if stale and cache is not None:
        cache.note_use(key, now)
    return Principal(key.key_id, key.workspace_id, key.permissions, stale)


async def record_key_use(session: AsyncSession, key_id: str) -> None:
    await repository.touch_key(session, key_id, utc_now())
