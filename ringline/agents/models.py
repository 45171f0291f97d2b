from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ringline.core.database import Base, JSONDocument, UTCDateTime


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        Index("ix_agents_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AgentVersion(Base):
    """One numbered version of an agent; a published version never changes."""

    __tablename__ = "agent_versions"

    agent_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    version_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    title: Mapped[str] = mapped_column(String(100))
    welcome_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    language_id: Mapped[str] = mapped_column(String(35), default="en-US")
    voice_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    from_phone_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    max_call_duration_sec: Mapped[int] = mapped_column(Integer, default=600)
    end_call_on_silence_sec: Mapped[int] = mapped_column(Integer, default=15)
    default_dynamic_variables: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument(), default=dict
    )
    post_call_analysis: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONDocument(), default=list
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
