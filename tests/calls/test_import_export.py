"""Importing call history from JSON Lines and CSV, and exporting it again."""

import csv
import io

import orjson
import pytest
from sqlalchemy import func, select

from ringline.calls.exporter import export_calls
from ringline.calls.importer import ImportFileError, import_calls
from ringline.calls.models import Call
from ringline.core.database import transaction
from tests.factories import Api, Workspace, call_record


async def run_import(api: Api, workspace: Workspace, text: str):  # type: ignore[no-untyped-def]
    async with transaction(api.sessionmaker) as session:
        return await import_calls(session, workspace.id, text)


async def count_calls(api: Api) -> int:
    async with transaction(api.sessionmaker) as session:
        return await session.scalar(select(func.count()).select_from(Call)) or 0


def jsonl(*rows: dict) -> str:
    return "\n".join(orjson.dumps(row).decode() for row in rows)


async def test_jsonl_rows_validated_one_by_one(api: Api) -> None:
    workspace = await api.workspace()
    good = call_record(workspace)
    rows = [
        good,
        call_record(workspace, agent="agent_unknown0000000000"),
        call_record(workspace, status="finished"),
        call_record(workspace, to_phone_number="5550100"),
        call_record(workspace, created_at="last tuesday"),
        call_record(workspace, id=good["id"]),
        call_record(workspace, end_reason="bored"),
        call_record(workspace, metadata={"nested": {"a": 1}}),
        call_record(workspace, duration_ms=-5),
        call_record(workspace, agent_version_number=7),
    ]

    report = await run_import(api, workspace, jsonl(*rows) + "\nnot json\n[1]")

    reasons = dict(report.rejected)
    assert report.loaded == 1
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "is not an agent of this workspace" in reasons[2][0]
    assert "status has unknown value 'finished'" in reasons[3][0]
    assert "to_phone_number must start with +" in reasons[4][0]
    assert "created_at" in reasons[5][0]
    assert "appears twice" in reasons[6][0]
    assert "end_reason has unknown value" in reasons[7][0]
    assert "metadata values" in reasons[8][0]
    assert "duration_ms" in reasons[9][0]
    assert "not a published version" in reasons[10][0]
    assert "not valid JSON" in reasons[11][0]
    assert "JSON object" in reasons[12][0]
    assert await count_calls(api) == 1


async def test_existing_id_is_rejected_not_overwritten(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{"status": "busy"}])

    report = await run_import(
        api, workspace, jsonl(call_record(workspace, id=call_id, status="completed"))
    )
    fetched = await api.get(f"/v1/calls/{call_id}", workspace)

    assert report.loaded == 0
    assert "already exists" in report.rejected[0][1][0]
    assert fetched.json()["status"] == "busy"


async def test_csv_keeps_ids_and_timestamps(api: Api) -> None:
    workspace = await api.workspace()
    agent = workspace.agents["A"]
    text = (
        "id,agent_id,from_number,to_number,status,end_reason,created_at,"
        "duration_seconds,metadata\n"
        f"call_csv0000000000000001,{agent},+15550100100,+1 (555) 010-0199,"
        'completed,agent_disconnected,2026-11-01T09:00:00+01:00,42,"{""a"": 1}"\n'
        f"call_csv0000000000000002,{agent},+15550100100,+15550100198,queued,,"
        "2026-11-02T00:00:00Z,,\n"
    )

    report = await run_import(api, workspace, text)
    fetched = await api.get("/v1/calls/call_csv0000000000000001", workspace)

    assert report.loaded == 1
    assert report.rejected[0][0] == 2
    call = fetched.json()
    assert call["created_at"] == "2026-11-01T08:00:00.000Z"
    assert call["to_phone_number"] == "+15550100199"
    assert call["duration_seconds"] == 42
    assert call["metadata"] == {"a": 1}


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("agent_id,status\nx,completed\n", "lacks required column"),
        ("\n\n", "empty"),
    ],
)
async def test_unusable_file_loads_nothing(api: Api, text: str, reason: str) -> None:
    workspace = await api.workspace()

    with pytest.raises(ImportFileError, match=reason):
        await run_import(api, workspace, text)

    assert await count_calls(api) == 0


async def test_export_writes_jsonl_and_csv(api: Api) -> None:
    source = await api.workspace("Source")
    seeded = await api.seed(
        source,
        [
            {"created_at": "2026-11-01T00:00:00.250Z", "metadata": {"name": "Zoë"}},
            {"status": "busy", "transcript": "Agent: Hi"},
        ],
    )
    output = io.StringIO()
    csv_output = io.StringIO()

    async with transaction(api.sessionmaker) as session:
        written = await export_calls(session, source.id, {}, output, "jsonl")
        await export_calls(session, source.id, {"status": "busy"}, csv_output, "csv")

    exported = [orjson.loads(line) for line in output.getvalue().splitlines()]
    csv_rows = list(csv.DictReader(io.StringIO(csv_output.getvalue())))
    assert written == 2
    assert sorted(call["id"] for call in exported) == sorted(seeded)
    assert exported[1]["metadata"] == {"name": "Zoë"}
    assert exported[1]["created_at"] == "2026-11-01T00:00:00.250Z"
    assert [row["status"] for row in csv_rows] == ["busy"]
    assert csv_rows[0]["transcript"] == "Agent: Hi"


async def test_more_row_checks(api: Api) -> None:
    workspace = await api.workspace()
    rows = [
        call_record(workspace, created_at="0001-01-01T00:00:00Z"),
        call_record(workspace, to_number="+15550100999"),
        call_record(workspace, batch_call_id=["x"]),
        call_record(workspace, transcript="Agent: hi\u0000"),
        call_record(workspace, metadata={"note": "x" * 17000}),
        call_record(workspace, metadata={"": 1}),
        call_record(
            workspace,
            created_at="2026-11-10T10:00:00Z",
            updated_at="2026-11-09T10:00:00Z",
        ),
        call_record(workspace, transcript=["not", "text"]),
    ]

    report = await run_import(api, workspace, jsonl(*rows))

    reasons = {number: " ".join(errors) for number, errors in report.rejected}
    assert report.loaded == 0
    assert "between the years 1900 and 9998" in reasons[1]
    assert "give different values" in reasons[2]
    assert "batch_call_id must be an id" in reasons[3]
    assert "NUL character" in reasons[4]
    assert "at most 16384 bytes" in reasons[5]
    assert "keys must not be empty" in reasons[6]
    assert "updated_at must not be earlier than created_at" in reasons[7]
    assert "transcript must be text" in reasons[8]


async def test_long_csv_field_and_repeated_column(api: Api) -> None:
    workspace = await api.workspace()
    agent = workspace.agents["A"]
    header = "agent_id,from_phone_number,to_phone_number,status,transcript\n"
    long_row = f"{agent},+15550100100,+15550100199,completed,{'x' * 200_000}\n"

    report = await run_import(api, workspace, header + long_row)

    assert report.loaded == 1
    with pytest.raises(ImportFileError, match="repeats column"):
        await run_import(api, workspace, "status,status,agent_id\n")


async def test_jsonl_suffix_reads_lines_as_json(api: Api) -> None:
    workspace = await api.workspace()
    text = "not json\n" + jsonl(call_record(workspace))

    async with transaction(api.sessionmaker) as session:
        report = await import_calls(session, workspace.id, text, "calls.jsonl")

    assert report.loaded == 1
    assert report.rejected[0][0] == 1
    assert report.rejected[0][1][0].startswith("not valid JSON")


async def test_durations_limited_to_18_digits(api: Api) -> None:
    workspace = await api.workspace()
    longest = call_record(workspace, duration_ms=10**18 - 1)
    rows = [
        longest,
        call_record(workspace, duration_ms=2**63),
        call_record(workspace, duration_ms=2**63 - 1),
        call_record(workspace, duration_seconds=10**15),
    ]

    report = await run_import(api, workspace, jsonl(*rows))
    listed = (await api.get("/v1/calls", workspace)).json()["data"]
    got = (await api.get(f"/v1/calls/{longest['id']}", workspace)).json()

    reasons = {number: " ".join(errors) for number, errors in report.rejected}
    assert report.loaded == 1
    assert "duration_ms must be a whole number from 0 to" in reasons[2]
    assert "duration_ms must be a whole number from 0 to" in reasons[3]
    assert "duration_seconds must be a whole number from 0 to" in reasons[4]
    assert listed[0]["duration_seconds"] == 10**15
    assert got["duration_seconds"] == 10**15


async def test_imported_timestamps_become_timeline(api: Api) -> None:
    workspace = await api.workspace()
    answered = call_record(
        workspace,
        id="call_timeline000000000001",
        status="completed",
        created_at="2026-11-01T09:00:00Z",
        initiated_at="2026-11-01T09:00:01Z",
        answered_at="2026-11-01T09:00:07Z",
        ended_at="2026-11-01T09:02:00Z",
    )
    busy = call_record(
        workspace,
        id="call_timeline000000000002",
        status="busy",
        created_at="2026-11-01T10:00:00Z",
        ended_at="2026-11-01T10:00:09Z",
    )

    report = await run_import(api, workspace, jsonl(answered, busy))
    first = await api.get(f"/v1/call-logs/{answered['id']}/details", workspace)
    second = await api.get(f"/v1/call-logs/{busy['id']}/details", workspace)

    assert report.loaded == 2
    assert first.json()["timeline"] == [
        {"event": "call_created", "timestamp": "2026-11-01T09:00:00.000Z"},
        {"event": "call_initiated", "timestamp": "2026-11-01T09:00:01.000Z"},
        {"event": "call_answered", "timestamp": "2026-11-01T09:00:07.000Z"},
        {"event": "call_ended", "timestamp": "2026-11-01T09:02:00.000Z"},
    ]
    assert second.json()["timeline"] == [
        {"event": "call_created", "timestamp": "2026-11-01T10:00:00.000Z"},
        {"event": "call_ended", "timestamp": "2026-11-01T10:00:09.000Z"},
    ]


async def test_export_reads_every_batch(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = await api.workspace()
    seeded = await api.seed(
        workspace,
        [{"created_at": f"2026-11-0{day}T00:00:00Z"} for day in range(1, 6)]
        + [{"created_at": "2026-11-05T00:00:00Z"}],
    )
    monkeypatch.setattr("ringline.calls.exporter.BATCH_SIZE", 2)
    output = io.StringIO()

    async with transaction(api.sessionmaker) as session:
        written = await export_calls(session, workspace.id, {}, output, "jsonl")

    exported = [orjson.loads(line)["id"] for line in output.getvalue().splitlines()]
    assert written == 6
    assert sorted(exported) == sorted(seeded)
    assert len(set(exported)) == 6
