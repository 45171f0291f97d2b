"""Request and response models of the agents API."""

import re
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from ringline.core.phones import PhoneNumberError, normalize_phone_number

FIELD_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
FIELD_TYPE_ALIASES = {"STRING": "TEXT", "ENUM": "SELECTOR"}
FIELD_TYPES = ("TEXT", "SELECTOR", "BOOLEAN", "NUMBER", "DATETIME")
MAX_VARIABLES = 50
MAX_ANALYSIS_FIELDS = 50

Title = Annotated[str, Field(min_length=1, max_length=100)]
CallDuration = Annotated[StrictInt, Field(ge=60, le=5400)]
SilenceTimeout = Annotated[StrictInt, Field(ge=5, le=120)]
Scalar = str | int | float | bool | None


class AnalysisField(BaseModel):
    field_name: str = Field(description="Letters, digits and `_`.")
    field_type: str = Field(
        description="TEXT, SELECTOR, BOOLEAN, NUMBER or DATETIME "
        "(STRING and ENUM are accepted as aliases, in any case)."
    )
    field_description: str = Field("", max_length=1000)
    options: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, description="The allowed values; required for SELECTOR."
    )

    @field_validator("field_name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not FIELD_NAME.fullmatch(value):
            raise ValueError("must be 1 to 64 letters, digits or _")
        return value

    @field_validator("field_type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        upper = value.strip().upper()
        upper = FIELD_TYPE_ALIASES.get(upper, upper)
        if upper not in FIELD_TYPES:
            raise ValueError(f"must be one of {', '.join(FIELD_TYPES)}")
        return upper

    @model_validator(mode="after")
    def _check_options(self) -> Self:
        if self.field_type == "SELECTOR" and not self.options:
            raise ValueError(
                f"options are required for SELECTOR field {self.field_name}"
            )
        return self


class VersionFields(BaseModel):
    """The editable fields of an agent version; all optional here."""

    title: Title | None = Field(None, description="1 to 100 characters.")
    welcome_message: Annotated[str, Field(max_length=5000)] | None = Field(
        None, description="What the agent says first; may use {{variable}}."
    )
    prompt_text: Annotated[str, Field(max_length=50_000)] | None = Field(
        None, description="The agent's instructions; may use {{variable}}."
    )
    language_id: str | None = Field(None, description="BCP 47 tag, default en-US.")
    voice_id: Annotated[str, Field(max_length=100)] | None = Field(
        None, description="Voice name for speech synthesis."
    )
    from_phone_number: str | None = Field(
        None, description="Default caller number for this agent's calls, E.164."
    )
    max_call_duration_sec: CallDuration | None = Field(None, description="60 to 5400.")
    end_call_on_silence_sec: SilenceTimeout | None = Field(
        None, description="5 to 120."
    )
    default_dynamic_variables: dict[str, Scalar] | None = Field(
        None, description="Values used when a call's metadata lacks a key."
    )
    post_call_analysis: list[AnalysisField] | None = Field(
        None, description="Fields extracted from each call after it ends."
    )

    @field_validator("language_id")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        if value is not None and not LANGUAGE_TAG.fullmatch(value):
            raise ValueError("must be a BCP 47 language tag such as en-US")
        return value

    @field_validator("from_phone_number")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_phone_number("from_phone_number", value)
        except PhoneNumberError as error:
            raise ValueError(str(error).removeprefix("from_phone_number ")) from None

    @field_validator("default_dynamic_variables")
    @classmethod
    def _check_variables(cls, value: dict[str, Scalar] | None) -> dict | None:
        if value is not None and len(value) > MAX_VARIABLES:
            raise ValueError(f"must have at most {MAX_VARIABLES} keys")
        return value

    @field_validator("post_call_analysis")
    @classmethod
    def _check_fields(cls, value: list[AnalysisField] | None) -> list | None:
        if value is None:
            return None
        if len(value) > MAX_ANALYSIS_FIELDS:
            raise ValueError(f"must have at most {MAX_ANALYSIS_FIELDS} fields")
        names = [field.field_name for field in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"field_name {', '.join(duplicates)} appears twice")
        return value

    def given_fields(self) -> dict[str, Any]:
        """Return the version fields the client sent, analysis fields as dicts."""
        return self.model_dump(
            exclude_unset=True, exclude={"version_number", "is_published"}
        )


class AgentCreate(VersionFields):
    title: Title = Field(description="1 to 100 characters.")


class AgentUpdate(VersionFields):
    version_number: StrictInt = Field(description="The draft version to edit.")
    is_published: StrictBool | None = Field(
        None, description="true publishes the version and opens the next draft."
    )


class AgentVersion(BaseModel):
    version_number: int
    is_published: bool
    published_at: str | None
    title: str
    welcome_message: str | None
    prompt_text: str | None
    language_id: str
    voice_id: str | None
    from_phone_number: str | None
    max_call_duration_sec: int
    end_call_on_silence_sec: int
    default_dynamic_variables: dict[str, Any]
    post_call_analysis: list[dict[str, Any]]
    created_at: str


class Agent(BaseModel):
    id: str = Field(description="Agent id, `agent_` and a random part.")
    title: str = Field(description="Title of the latest version.")
    latest_published_version: int | None = Field(
        description="Number of the newest published version; null if none."
    )
    draft_version: int | None = Field(description="Number of the open draft.")
    created_at: str
    updated_at: str


class AgentDetail(Agent):
    versions: list[AgentVersion] = Field(description="Every version, oldest first.")


class AgentList(BaseModel):
    data: list[Agent]
    meta: dict[str, Any]
