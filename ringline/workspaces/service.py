import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.errors import InvalidRequest, NotFound
from ringline.core.ids import new_id
from ringline.core.phones import PhoneNumberError, normalize_phone_number
from ringline.core.time import utc_now
from ringline.workspaces import repository
from ringline.workspaces.models import Workspace


def parse_countries(value: str | None) -> list[str] | None:
    """Parse comma-separated ISO 3166 region codes; None or empty enables all."""
    if value is None or not value.strip():
        return None
    codes = [code.strip().upper() for code in value.split(",") if code.strip()]
    known = phonenumbers.SUPPORTED_REGIONS
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidRequest(
            f"unknown country code {', '.join(unknown)}; use ISO 3166 codes such as US"
        )
    return sorted(set(codes))


async def create_workspace(
    session: AsyncSession,
    name: str,
    from_phone_number: str | None = None,
    enabled_countries: list[str] | None = None,
    concurrency_limit: int = 10,
) -> Workspace:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidRequest("workspace name must be 1 to 200 characters")
    if concurrency_limit < 1:
        raise InvalidRequest("concurrency limit must be at least 1")
    if from_phone_number is not None:
        try:
            from_phone_number = normalize_phone_number(
                "caller number", from_phone_number
            )
        except PhoneNumberError as error:
            raise InvalidRequest(str(error)) from None

    workspace = Workspace(
        id=new_id("ws"),
        name=name,
        created_at=utc_now(),
        from_phone_number=from_phone_number,
        enabled_countries=enabled_countries,
        concurrency_limit=concurrency_limit,
    )
    await repository.add_workspace(session, workspace)
    return workspace


async def require_workspace(session: AsyncSession, workspace_id: str) -> Workspace:
    workspace = await repository.get_workspace(session, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


async def has_any_workspace(session: AsyncSession) -> bool:
    return await repository.count_workspaces(session) > 0
