"""Variables, script lines, personas and the language-model responder."""

from ringline.dialing.conversation import (
    GOODBYE,
    PERSONAS,
    ModelResponder,
    ScriptResponder,
    Turn,
    persona_for,
    script_lines,
)
from ringline.dialing.variables import fill_variables
from tests.dialing.fake_model import FakeModel, completion


def test_variables_come_from_first_source_with_value() -> None:
    text = "Hi {{name}}, {{ agent_name }} calling about {{topic}}."

    filled = fill_variables(
        text,
        {"name": "Ann", "topic": ""},
        {"topic": "your order"},
        {"agent_name": "Rob"},
    )

    assert filled == "Hi Ann, Rob calling about your order."


def test_missing_variable_is_dropped() -> None:
    filled = fill_variables("Hello {{name}}, this is {{agent}}.", {}, {"agent": "Rob"})

    assert filled == "Hello, this is Rob."
    assert "{{" not in fill_variables("{{a}} {{b}}", {})


def test_boolean_and_number_variables_are_spoken() -> None:
    filled = fill_variables(
        "VIP: {{vip}}, due {{amount}}", {"vip": True, "amount": 12.5}
    )

    assert filled == "VIP: yes, due 12.5"


def test_script_lines_are_list_items_and_say_lines() -> None:
    prompt = (
        "You are polite.\n- First line\n2) Second line\nSay: Third line\nNot a line"
    )

    assert script_lines(prompt) == ["First line", "Second line", "Third line"]


async def test_script_responder_speaks_lines_then_goodbye() -> None:
    responder = ScriptResponder("- One\n- Two")

    replies = [await responder.reply("", []) for _ in range(4)]

    assert replies == ["One", "Two", GOODBYE, None]


def test_persona_is_stable_per_number() -> None:
    chosen = {persona_for(f"+1555010{i:04d}").name for i in range(200)}

    assert persona_for("+15550100199") == persona_for("+15550100199")
    assert chosen == {persona.name for persona in PERSONAS}


async def test_model_responder_uses_replies_until_end(fake_model: str) -> None:
    FakeModel.answers = [completion("Is Friday good?"), completion("Great. END_CALL")]
    responder = ModelResponder(fake_model, "small-model", "secret")
    history = [Turn("agent", "Hi Ann"), Turn("user", "Hello")]

    first = await responder.reply("Book a visit.", history)
    second = await responder.reply("Book a visit.", history)
    third = await responder.reply("Book a visit.", history)

    assert first == "Is Friday good?"
    assert second == "Great."
    assert third is None
    sent = FakeModel.requests[0]
    assert sent["model"] == "small-model"
    assert sent["messages"][0]["role"] == "system"
    assert "Book a visit." in sent["messages"][0]["content"]
    assert [m["role"] for m in sent["messages"][1:]] == ["assistant", "user"]


async def test_malformed_model_answer_ends_politely(fake_model: str) -> None:
    FakeModel.answers = [b"not json at all"]
    responder = ModelResponder(fake_model, "small-model", None)

    first = await responder.reply("", [])
    second = await responder.reply("", [])

    assert first == GOODBYE
    assert second is None
