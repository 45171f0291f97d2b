"""Import every table so that Base.metadata is complete (for migrations and tests)."""

from ringline.agents.models import Agent, AgentVersion
from ringline.calls.models import Call
from ringline.core.database import Base
from ringline.keys.models import ApiKey
from ringline.workspaces.models import Workspace

__all__ = ["Agent", "AgentVersion", "ApiKey", "Base", "Call", "Workspace"]
