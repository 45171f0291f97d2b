from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ringline.agents import service
from ringline.agents.schemas import AgentCreate, AgentDetail, AgentList, AgentUpdate
from ringline.core.dependencies import Cursors, ReadSession, Session, require
from ringline.core.http import cacheable_json_response, json_response, query_values
from ringline.core.openapi import error_responses
from ringline.keys.service import Principal

router = APIRouter(prefix="/v1/agents", tags=["agents"])
CanRead = Annotated[Principal, Depends(require("agents:read"))]
CanWrite = Annotated[Principal, Depends(require("agents:write", writes=True))]


@router.post(
    "",
    status_code=201,
    response_model=AgentDetail,
    responses=error_responses(400, 401, 403, 429),
    summary="Create an agent with version 1 as a draft",
)
async def create_agent(
    principal: CanWrite, session: Session, body: AgentCreate
) -> Response:
    agent = await service.create_agent_from_request(
        session, principal.workspace_id, body
    )
    return json_response(agent, status_code=201)


@router.get(
    "",
    response_model=AgentList,
    responses=error_responses(400, 401, 403, 429),
    summary="List agents, newest first",
)
async def list_agents(
    request: Request,
    session: ReadSession,
    principal: CanRead,
    cursors: Cursors,
    page: str | None = Query(None, description="Page number from 1."),
    limit: str | None = Query(None, description="Items per page, 1 to 100."),
    cursor: str | None = Query(None, description="next_cursor of a previous page."),
    include_total: str | None = Query(None, description="false skips counting."),
) -> Response:
    payload = await service.list_agents(
        session, principal.workspace_id, query_values(request), cursors
    )
    return cacheable_json_response(request, payload)


@router.get(
    "/{agent_id}",
    response_model=AgentDetail,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Get an agent with all its versions",
)
async def get_agent(
    request: Request, session: ReadSession, principal: CanRead, agent_id: str
) -> Response:
    agent = await service.get_agent(session, principal.workspace_id, agent_id)
    return cacheable_json_response(request, agent)


@router.patch(
    "/{agent_id}",
    response_model=AgentDetail,
    responses=error_responses(400, 401, 403, 404, 409, 429),
    summary="Edit a draft version, or publish it with is_published",
)
async def update_agent(
    principal: CanWrite, session: Session, agent_id: str, body: AgentUpdate
) -> Response:
    agent = await service.update_agent(session, principal.workspace_id, agent_id, body)
    return json_response(agent)


@router.delete(
    "/{agent_id}",
    status_code=204,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Delete an agent; its calls stay",
)
async def delete_agent(
    principal: CanWrite, session: Session, agent_id: str
) -> Response:
    await service.delete_agent(session, principal.workspace_id, agent_id)
    return Response(status_code=204)
