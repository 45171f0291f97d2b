from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ringline.core.database import Base, JSONDocument, UTCDateTime


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_phone_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # ISO 3166 region codes that calls may be placed to; None enables every one.
    enabled_countries: Mapped[list[str] | None] = mapped_column(
        JSONDocument(), nullable=True
    )
    concurrency_limit: Mapped[int] = mapped_column(
        Integer, default=10, server_default="10"
    )
