"""The floor for accepted creates: a bare FastAPI route that inserts one row.

It uses the same framework, server, SQLAlchemy async engine and driver as
Ringline, and does nothing else: no authentication, no validation, no queue.
Run by calls_throughput.py as `uvicorn throughput_floor_app:app`.
"""

import os
import secrets

import orjson
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from ringline.core.database import create_engine

engine = create_engine(os.environ["FLOOR_DATABASE_URL"])
app = FastAPI()
INSERT = text("INSERT INTO floor_calls (id, body) VALUES (:id, :body)")


@app.post("/floor")
async def insert_one(request: Request) -> Response:
    body = await request.body()
    row_id = "call_" + secrets.token_hex(10)
    async with engine.begin() as connection:
        await connection.execute(INSERT, {"id": row_id, "body": body.decode()})
    return Response(
        orjson.dumps({"id": row_id, "status": "created"}),
        status_code=201,
        media_type="application/json",
    )
