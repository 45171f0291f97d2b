import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ringline.analysis import offline
from ringline.analysis.fields import FieldDefinition
from ringline.analysis.offline import analyze_offline
from ringline.analysis.result import Segment

# Wednesday, 12 March 2025, 15:00 UTC: "tomorrow" is Thursday the 13th.
REFERENCE = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def definition(
    name: str, field_type: str, description: str, options: list[str] | None = None
) -> FieldDefinition:
    return {
        "field_name": name,
        "field_type": field_type,
        "field_description": description,
        "options": options,
    }


DEFINITIONS = [
    definition(
        "appointment_confirmed",
        "BOOLEAN",
        "Whether the callee confirmed the appointment",
    ),
    definition("party_size", "NUMBER", "How many people will come"),
    definition("callback_time", "DATETIME", "When to call the callee back"),
    definition(
        "plan", "SELECTOR", "The plan the callee chose", options=["Basic", "Premium"]
    ),
    definition("feedback", "TEXT", "The callee's comments about the service"),
]


def transcript(*turns: tuple[str, str]) -> list[Segment]:
    segments: list[Segment] = []
    for index, (role, content) in enumerate(turns):
        assert role in ("agent", "user")
        segments.append(
            {
                "role": "agent" if role == "agent" else "user",
                "content": content,
                "start_ms": index * 4000,
                "end_ms": index * 4000 + 3500,
            }
        )
    return segments


HAPPY_CONFIRMATION = transcript(
    (
        "agent",
        "Hi, this is Anna from Bright Dental. I'm calling about your appointment "
        "on Tuesday at 3 pm. Can you confirm the appointment?",
    ),
    ("user", "Yes, absolutely, I'll be there. Thank you so much!"),
    ("agent", "Wonderful. How many people will come with you?"),
    ("user", "Two of us."),
    ("agent", "Which plan would you like, Basic or Premium?"),
    ("user", "Premium, please."),
    ("agent", "Any comments about our service?"),
    ("user", "The staff was lovely last time."),
    ("agent", "Great, see you on Tuesday. Goodbye!"),
)

ANGRY_COMPLAINT = transcript(
    (
        "agent",
        "Hello, this is Sam from Acme Internet about your support ticket. "
        "Is the connection working now?",
    ),
    (
        "user",
        "No! It has been broken for a week and nobody helped me. "
        "I pay for Premium and this is terrible.",
    ),
    ("agent", "I'm sorry to hear that. When can we call you back?"),
    ("user", "Call me tomorrow at 10 am, and it had better be fixed."),
    ("agent", "Do you have any other comments about our service?"),
    ("user", "Just fix my internet."),
    ("agent", "Understood. Goodbye."),
)

NEUTRAL_EXCHANGE = transcript(
    (
        "agent",
        "Hello, this is Sam from the City Library. The book you reserved has "
        "arrived. Which plan would you like for your membership, Basic or Premium?",
    ),
    ("user", "I have not decided between Basic and Premium yet."),
    ("agent", "How many people will come to the reading on Friday?"),
    ("user", "Three."),
    ("agent", "When should we call you back?"),
    ("user", "On Monday at 9 am."),
    ("agent", "Thank you. Goodbye."),
)

SILENT_CALLEE = transcript(
    ("agent", "Hello? This is Anna from Bright Dental."),
    ("user", "   "),
    ("agent", "Hello, can you hear me? I will try again later. Goodbye."),
)

AMBIGUOUS_ANSWERS = transcript(
    ("agent", "Hi, this is Anna from Bright Dental. Can you confirm the appointment?"),
    ("user", "I will, but not on Tuesday."),
    ("agent", "How many people will come?"),
    ("user", "Two or three."),
    ("agent", "When should we call you back?"),
    ("user", "Thursday or Friday, I think."),
    ("agent", "Which plan do you have?"),
    ("user", "Hmm."),
    ("agent", "Alright, we will call you back. Goodbye."),
)


def test_happy_confirmation_is_positive() -> None:
    result = analyze_offline(HAPPY_CONFIRMATION, DEFINITIONS, REFERENCE)

    assert result.sentiment == "positive"


def test_happy_confirmation_fields_read() -> None:
    result = analyze_offline(HAPPY_CONFIRMATION, DEFINITIONS, REFERENCE)

    assert result.fields["appointment_confirmed"] is True
    assert result.fields["party_size"] == 2
    assert result.fields["plan"] == "Premium"
    assert result.fields["feedback"] == "The staff was lovely last time."
    assert result.fields["callback_time"] is None


def test_angry_complaint_is_negative() -> None:
    result = analyze_offline(ANGRY_COMPLAINT, DEFINITIONS, REFERENCE)

    assert result.sentiment == "negative"


def test_angry_complaint_fields_read() -> None:
    result = analyze_offline(ANGRY_COMPLAINT, DEFINITIONS, REFERENCE)

    assert result.fields["callback_time"] == "2025-03-13T10:00:00"
    assert result.fields["plan"] == "Premium"
    assert result.fields["feedback"] == "Just fix my internet."
    assert result.fields["appointment_confirmed"] is None
    assert result.fields["party_size"] is None


def test_neutral_exchange_is_neutral() -> None:
    result = analyze_offline(NEUTRAL_EXCHANGE, DEFINITIONS, REFERENCE)

    assert result.sentiment == "neutral"


def test_neutral_exchange_fields_read() -> None:
    result = analyze_offline(NEUTRAL_EXCHANGE, DEFINITIONS, REFERENCE)

    assert result.fields["party_size"] == 3
    assert result.fields["callback_time"] == "2025-03-17T09:00:00"
    assert result.fields["plan"] is None
    assert result.fields["appointment_confirmed"] is None
    assert result.fields["feedback"] is None


def test_silent_callee_is_unknown() -> None:
    result = analyze_offline(SILENT_CALLEE, DEFINITIONS, REFERENCE)

    assert result.sentiment == "unknown"


def test_silent_callee_fields_null() -> None:
    result = analyze_offline(SILENT_CALLEE, DEFINITIONS, REFERENCE)

    assert result.fields == {
        "appointment_confirmed": None,
        "party_size": None,
        "callback_time": None,
        "plan": None,
        "feedback": None,
    }


def test_silent_callee_summary_agent_only() -> None:
    result = analyze_offline(SILENT_CALLEE, DEFINITIONS, REFERENCE)

    assert result.summary is not None
    assert result.summary.startswith("Agent: ")
    assert "Callee:" not in result.summary


def test_ambiguous_answers_fields_null() -> None:
    result = analyze_offline(AMBIGUOUS_ANSWERS, DEFINITIONS, REFERENCE)

    assert result.fields["appointment_confirmed"] is None
    assert result.fields["party_size"] is None
    assert result.fields["callback_time"] is None
    assert result.fields["plan"] is None


def test_ambiguous_answers_is_neutral() -> None:
    result = analyze_offline(AMBIGUOUS_ANSWERS, DEFINITIONS, REFERENCE)

    assert result.sentiment == "neutral"


def test_text_answer_is_stripped() -> None:
    segments = transcript(
        ("agent", "Do you have any comments about our service?"),
        ("user", "  Hmm, hard to say.  "),
    )

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.fields["feedback"] == "Hmm, hard to say."


def test_yes_agrees_to_proposed_time() -> None:
    segments = transcript(
        ("agent", "Shall we call you back tomorrow at 9 am?"),
        ("user", "Yes, please."),
    )

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.fields["callback_time"] == "2025-03-13T09:00:00"


def test_day_without_time_is_date() -> None:
    segments = transcript(
        ("agent", "When should we call you back?"),
        ("user", "Friday works for me."),
    )

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.fields["callback_time"] == "2025-03-14"


def test_no_declines_proposed_option() -> None:
    segments = transcript(
        ("user", "Basic costs too much for me."),
        ("agent", "Would you like the Premium plan instead?"),
        ("user", "No, thanks."),
    )

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.fields["plan"] is None


def test_selector_longer_option_wins() -> None:
    plans = [definition("plan", "SELECTOR", "The plan", ["Plus", "Premium Plus"])]
    segments = transcript(
        ("agent", "Which plan do you want?"),
        ("user", "The premium plus one."),
    )

    result = analyze_offline(segments, plans, REFERENCE)

    assert result.fields["plan"] == "Premium Plus"


def test_number_skips_that_one() -> None:
    segments = transcript(
        ("agent", "How many people will come?"),
        ("user", "We booked that one table, for four people."),
    )

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.fields["party_size"] == 4


def test_empty_transcript_has_nothing() -> None:
    result = analyze_offline([], DEFINITIONS, REFERENCE)

    assert result.sentiment == "unknown"
    assert result.summary is None
    assert set(result.fields) == {item["field_name"] for item in DEFINITIONS}
    assert all(value is None for value in result.fields.values())


def test_summary_labels_speakers_in_order() -> None:
    result = analyze_offline(HAPPY_CONFIRMATION, DEFINITIONS, REFERENCE)

    assert result.summary is not None
    assert result.summary.startswith("Agent: ")
    assert "Callee: " in result.summary
    assert result.summary.index("Agent: ") < result.summary.index("Callee: ")
    assert "appointment" in result.summary


def test_summary_within_length_limit() -> None:
    long_turn = " ".join(
        f"Sentence {number} is about the warranty and the router."
        for number in range(40)
    )
    segments = transcript(("agent", long_turn), ("user", long_turn))

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.summary is not None
    assert len(result.summary) <= 300
    assert result.summary.count(".") <= 3


def test_summary_cuts_one_long_sentence() -> None:
    words = " ".join(["warranty"] * 80)
    segments = transcript(("agent", f"The {words} is long."))

    result = analyze_offline(segments, DEFINITIONS, REFERENCE)

    assert result.summary is not None
    assert len(result.summary) <= 300
    assert result.summary.endswith("…")


def test_sentiment_analyzer_created_once() -> None:
    first = offline._sentiment_analyzer()

    second = offline._sentiment_analyzer()

    assert first is second


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_naive_reference_taken_as_utc(tokyo_local_time: None) -> None:
    segments = transcript(
        ("agent", "When should we call you back?"),
        ("user", "Tomorrow at 8 am."),
    )
    # Read as Tokyo time, this would be 20:00 UTC on 11 March.
    naive = datetime(2025, 3, 12, 5, 0)

    result = analyze_offline(segments, DEFINITIONS, naive)

    assert result.fields["callback_time"] == "2025-03-13T08:00:00"
