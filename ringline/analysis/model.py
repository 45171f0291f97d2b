"""Post-call analysis by an OpenAI-compatible chat completions endpoint.

The system prompt requests one JSON object with the callee's sentiment, a summary
and every analysis field. The model's output is validated, and output that is
not JSON, or has a missing or invalid field, is sent back once with the
problems listed. Whatever is still invalid after that becomes None, so bad
output degrades the result instead of raising. Only a failed request, or a
response that is no chat completion at all, raises AnalysisFailed.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import httpx
import structlog

from ringline.analysis.fields import FieldDefinition, FieldValue, coerce
from ringline.analysis.result import SENTIMENTS, AnalysisResult, Segment, Sentiment
from ringline.analysis.summary import SPEAKER_LABELS
from ringline.core.time import utc_now

log = structlog.get_logger()

REQUEST_TIMEOUT_S = 30
TYPE_INSTRUCTIONS = {
    "TEXT": "a string",
    "SELECTOR": "exactly one of the options, spelled as given",
    "BOOLEAN": "true or false",
    "NUMBER": "a JSON number",
    "DATETIME": "an ISO 8601 date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM:SS)",
}


class AnalysisFailed(Exception):
    """The chat completions request failed, timed out or returned no completion."""


@dataclass
class ParsedOutput:
    """The valid parts of one model output and the problems with the rest."""

    sentiment: Sentiment = "unknown"
    summary: str | None = None
    fields: dict[str, FieldValue | None] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    output_error: str | None = None

    def to_result(self) -> AnalysisResult:
        return AnalysisResult(self.sentiment, self.summary, dict(self.fields))


async def analyze_with_model(
    segments: Sequence[Segment],
    definitions: Sequence[FieldDefinition],
    base_url: str,
    model: str,
    api_key: str | None,
    reference: datetime | None = None,
) -> AnalysisResult:
    """Analyse a transcript with a language model, retrying once on invalid output.

    `reference` is the moment relative dates count from, normally the call's
    end, and defaults to now. Raises AnalysisFailed when a request fails, times
    out or returns no chat completion.
    """
    url = base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    messages = [
        {"role": "system", "content": system_prompt(definitions, reference)},
        {"role": "user", "content": transcript_text(segments)},
    ]

    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        content = await _complete(client, url, headers, model, messages)
        first = parse_output(content, definitions)
        if first.output_error is None and not first.problems:
            return first.to_result()

        messages.append({"role": "assistant", "content": content})
        messages.append({"role": "user", "content": correction(first)})
        content = await _complete(client, url, headers, model, messages)

    second = parse_output(content, definitions)
    parsed = merge_outputs(first, second, definitions)
    if parsed.output_error is not None:
        log.warning("analysis.output_invalid", error=parsed.output_error)
    if parsed.problems:
        log.warning(
            "analysis.fields_invalid",
            fields=list(parsed.problems),
            reasons=list(parsed.problems.values()),
        )
    return parsed.to_result()


def system_prompt(
    definitions: Sequence[FieldDefinition], reference: datetime | None
) -> str:
    """Describe the task, the JSON output and each field to the model."""
    ended = (reference or utc_now()).isoformat(timespec="seconds")
    lines = [
        "You analyse the transcript of a phone call between an AI agent and "
        "the callee.",
        "Answer with one JSON object and nothing else, with the keys "
        '"sentiment", "summary" and "fields".',
        'sentiment: the callee\'s mood, one of "positive", "neutral", '
        '"negative" or "unknown".',
        "summary: two or three sentences on what was said and agreed, "
        "or null for an empty call.",
        "fields: an object with one key for each field below. Use null for a "
        "field when the conversation does not tell.",
        f"The call ended at {ended}. Resolve relative dates such as "
        '"tomorrow" against that moment.',
        "Fields:",
    ]
    for definition in definitions:
        field_type = definition["field_type"]
        expected = TYPE_INSTRUCTIONS.get(field_type, "a JSON value")
        line = f"- {definition['field_name']} ({field_type}, {expected})"
        if definition["options"]:
            line += ", options: " + ", ".join(
                json.dumps(option) for option in definition["options"]
            )
        if definition["field_description"]:
            line += f": {definition['field_description']}"
        lines.append(line)
    return "\n".join(lines)


def transcript_text(segments: Sequence[Segment]) -> str:
    """Write the transcript as one speaker-labelled line per segment."""
    lines = [
        f"{SPEAKER_LABELS.get(segment['role'], segment['role'])}: "
        f"{segment['content'].strip()}"
        for segment in segments
        if segment["content"].strip()
    ]
    return "\n".join(lines) or "(The callee and the agent said nothing.)"


async def _complete(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    model: str,
    messages: list[dict[str, str]],
) -> str:
    body = {
        "model": model,
        "messages": messages,
        "response_format": {"type": "json_object"},
    }
    try:
        response = await client.post(url, json=body, headers=headers)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise AnalysisFailed(
            f"chat completions request to {url} failed: {error!r}"
        ) from error

    # A body that is no chat completion means the endpoint is not
    # OpenAI-compatible, which a retry would not change.
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise AnalysisFailed(f"{url} returned no chat completion: {error!r}") from error
    return content if isinstance(content, str) else ""


def parse_output(content: str, definitions: Sequence[FieldDefinition]) -> ParsedOutput:
    """Validate one output: drop a bad sentiment or summary, list bad fields."""
    try:
        output = json.loads(content)
    except ValueError as error:
        return ParsedOutput(output_error=f"the output is not valid JSON: {error}")
    if not isinstance(output, dict):
        return ParsedOutput(output_error="the output is JSON but not an object")

    parsed = ParsedOutput()
    sentiment = output.get("sentiment")
    if isinstance(sentiment, str) and sentiment.strip().lower() in SENTIMENTS:
        parsed.sentiment = cast(Sentiment, sentiment.strip().lower())
    summary = output.get("summary")
    if isinstance(summary, str) and summary.strip():
        parsed.summary = summary.strip()

    values = output.get("fields")
    if not isinstance(values, dict):
        values = {}
    for definition in definitions:
        name = definition["field_name"]
        parsed.fields[name] = None
        if name not in values:
            parsed.problems[name] = f"field {name!r} is missing"
            continue
        try:
            parsed.fields[name] = coerce(definition, values[name])
        except ValueError as error:
            parsed.problems[name] = str(error)
    return parsed


def correction(parsed: ParsedOutput) -> str:
    """Write the follow-up user message that lists what the model must fix."""
    if parsed.output_error is not None:
        return (
            "Your last message could not be used because "
            f"{parsed.output_error}. Answer again with only the JSON object "
            "described in the instructions."
        )
    problems = "\n".join(f"- {reason}" for reason in parsed.problems.values())
    return (
        "These fields in your last message were invalid:\n"
        f"{problems}\n"
        "Send the whole JSON object again with these fields fixed. Use null "
        "for a field when the conversation does not tell."
    )


def merge_outputs(
    first: ParsedOutput, second: ParsedOutput, definitions: Sequence[FieldDefinition]
) -> ParsedOutput:
    """Combine two outputs: the retry's valid values, else the first's, else None."""
    if second.output_error is None:
        merged = ParsedOutput(second.sentiment, second.summary)
    else:
        merged = ParsedOutput(first.sentiment, first.summary)
        if first.output_error is not None:
            merged.output_error = second.output_error

    for definition in definitions:
        name = definition["field_name"]
        merged.fields[name] = None
        if _is_valid(second, name):
            merged.fields[name] = second.fields[name]
        elif _is_valid(first, name):
            merged.fields[name] = first.fields[name]
        else:
            merged.problems[name] = second.problems.get(
                name,
                f"field {name!r} is missing because {second.output_error}",
            )
    return merged


def _is_valid(parsed: ParsedOutput, name: str) -> bool:
    return (
        parsed.output_error is None
        and name in parsed.fields
        and name not in parsed.problems
    )
