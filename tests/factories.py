"""Small typed factories: an API client on a real database, workspaces, keys,
agents and calls with sensible defaults."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.agents.service import create_agent
from ringline.app import create_app
from ringline.calls.importer import import_calls
from ringline.core.database import transaction
from ringline.core.settings import Settings
from ringline.keys.service import create_key, revoke_key
from ringline.workspaces.service import create_workspace

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


@dataclass
class Workspace:
    id: str
    key: str
    agents: dict[str, str] = field(default_factory=dict)

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


@dataclass
class Api:
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]

    async def workspace(
        self,
        name: str = "Acme",
        agents: tuple[str, ...] = ("A",),
        from_phone_number: str | None = "+15550100100",
        countries: list[str] | None = None,
    ) -> Workspace:
        async with transaction(self.sessionmaker) as session:
            workspace = await create_workspace(
                session, name, from_phone_number, countries
            )
            _, token = await create_key(session, workspace.id)
            made = Workspace(workspace.id, token)
            for title in agents:
                agent = await create_agent(session, workspace.id, title, publish=True)
                made.agents[title] = agent.id
        return made

    async def key(
        self,
        workspace: Workspace,
        permissions: list[str] | None = None,
        expires_at: datetime | None = None,
        revoked: bool = False,
    ) -> str:
        async with transaction(self.sessionmaker) as session:
            key, token = await create_key(session, workspace.id, "extra", permissions)
            # Set directly, because creating an already expired key is rejected.
            key.expires_at = expires_at
            if revoked:
                await revoke_key(session, key.id)
        return token

    async def seed(
        self, workspace: Workspace, calls: list[dict[str, Any]]
    ) -> list[str]:
        """Import calls through the importer and return their ids in given order."""
        rows = [call_record(workspace, **call) for call in calls]
        text = "\n".join(orjson.dumps(row).decode() for row in rows)
        async with transaction(self.sessionmaker) as session:
            report = await import_calls(session, workspace.id, text)
        assert report.rejected == [], report.rejected
        return [row["id"] for row in rows]

    async def post(
        self, path: str, workspace: Workspace, body: Any = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**workspace.headers(), **kwargs.pop("headers", {})}
        return await self.client.post(path, json=body, headers=headers, **kwargs)

    async def get(
        self, path: str, workspace: Workspace | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if workspace is not None:
            headers = {**workspace.headers(), **headers}
        return await self.client.get(path, headers=headers, **kwargs)


_counter = iter(range(10**9))


def new_call_id() -> str:
    return f"call_{next(_counter):020d}"


def call_record(
    workspace: Workspace,
    agent: str = "A",
    status: str = "completed",
    created_at: str | datetime = "2026-11-10T10:00:00Z",
    **fields: Any,
) -> dict[str, Any]:
    """A call row as the importer takes it; agent is an agent title of workspace."""
    if isinstance(created_at, datetime):
        created_at = created_at.astimezone(UTC).isoformat()
    record: dict[str, Any] = {
        "id": new_call_id(),
        "agent_id": workspace.agents.get(agent, agent),
        "from_phone_number": "+15550100100",
        "to_phone_number": "+15550100123",
        "status": status,
        "created_at": created_at,
    }
    if status in ("completed", "busy", "failed", "did_not_pick", "no_answer"):
        record["end_reason"] = {
            "completed": "agent_disconnected",
            "busy": "user_busy",
            "failed": "network_failure",
            "did_not_pick": "user_did_not_pick_up",
            "no_answer": "user_unreachable",
        }[status]
    record.update(fields)
    return record


def minutes_after(start: datetime, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)


def settings_for_tests(database_url: str, workdir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "rate_limit": 0,
        "var_dir": workdir / "var",
        "recordings_dir": workdir / "var" / "recordings",
        "log_level": "warning",
        "sandbox_ring_seconds": 0.3,
        "sandbox_turn_seconds": 0.05,
        "sandbox_dial_timeout_seconds": 0.6,
        "worker_poll_seconds": 0.05,
        "worker_lease_seconds": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def open_api(
    database_url: str, workdir: Path, run_worker: bool = False, **overrides: Any
) -> AsyncIterator[Api]:
    settings = settings_for_tests(database_url, workdir, **overrides)
    app = create_app(settings, run_worker=run_worker)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ringline.test"
        ) as client:
            yield Api(client, app.state.sessionmaker)
