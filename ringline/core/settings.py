"""Settings read from the environment (and a `.env` file) with a RINGLINE_ prefix."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/ringline.db"


class SettingsError(Exception):
    """A setting is missing or invalid, so the process must not start."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RINGLINE_", env_file=".env", extra="ignore"
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLite file (sqlite:///path) or PostgreSQL URL (postgresql://…).",
    )
    env: Literal["development", "production"] = "development"
    secret_key: str | None = Field(
        None,
        description="Signs cursors and recording links. Required in production; "
        "generated and kept under ./var/ in development.",
    )
    rate_limit: int = Field(600, ge=0, description="Requests per minute per key.")
    rate_limit_window_seconds: int = Field(60, ge=1)
    recordings_dir: Path = Path("./var/recordings")
    recording_link_seconds: int = Field(
        86_400,
        ge=60,
        description="How long a signed recording_url stays valid, in seconds.",
    )
    var_dir: Path = Path("./var")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted, in bytes."
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a request line and headers may take to arrive. A "
        "slower request gets 408 and its connection is closed.",
    )
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a request body may take to arrive in full. A slower "
        "one gets 408 and its connection is closed.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    sandbox_ring_seconds: float = Field(6.0, ge=0)
    sandbox_turn_seconds: float = Field(2.5, ge=0)
    sandbox_dial_timeout_seconds: float = Field(30.0, gt=0)
    speech_synthesis: bool = Field(
        True,
        description="Speak recordings with espeak-ng when it is installed; false "
        "renders tones, which costs far less CPU.",
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    worker_capacity: int = Field(
        1000, ge=1, description="Calls one worker process runs at once."
    )
    worker_poll_seconds: float = Field(0.2, gt=0, description="Queue polling pace.")
    worker_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a claimed call stays with a worker that stopped "
        "renewing it before another worker recovers it.",
    )
    webhook_allow_private: bool = False
    webhook_retry_base_seconds: float = 10.0
    public_url: str | None = Field(
        None,
        description="The address clients reach the API at, such as "
        "https://ringline.example.com. Webhook bodies carry signed recording "
        "links under it; unset, their recording_url is null.",
    )

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "must be an http:// or https:// address with a host, such as "
                f"https://ringline.example.com (got {value!r})"
            )
        return value.rstrip("/")

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def resolve_secret_key(settings: Settings) -> str:
    """Return the secret key, generating and storing one under var_dir in development.

    Raises SettingsError in production when RINGLINE_SECRET_KEY is unset or short.
    """
    if settings.secret_key:
        if settings.is_production and len(settings.secret_key) < 32:
            raise SettingsError("RINGLINE_SECRET_KEY must be at least 32 characters")
        return settings.secret_key

    if settings.is_production:
        raise SettingsError(
            "RINGLINE_SECRET_KEY is required when RINGLINE_ENV=production; "
            "set it to a random string of at least 32 characters"
        )

    key_file = settings.var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
