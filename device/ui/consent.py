"""The kiosk page's answers (a trust boundary): consent on the card-mode consent screen, and the
language the voice speaks. Strict JSON, every field required, nothing else accepted."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from device.events import ConsentAnswered
from device.strictjson import StrictJSONError
from device.strictjson import loads as strict_loads
from device.ui.worker import WorkerFormError

MAX_ANSWER_BYTES = 256
M = TypeVar("M", bound=BaseModel)


class ConsentForm(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    accepted: bool
    notice_version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")
    assisted: bool


class LanguageForm(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    language: str = Field(pattern=r"^[a-z]{2,8}$")


def _validated(model: type[M], body: bytes) -> M:
    if len(body) > MAX_ANSWER_BYTES:
        raise WorkerFormError("too_large")
    try:
        return model.model_validate(strict_loads(body))
    except StrictJSONError as exc:
        raise WorkerFormError("not_json") from exc
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "form"
        raise WorkerFormError(f"bad_{field}") from None


def parse_consent(body: bytes) -> ConsentAnswered:
    form = _validated(ConsentForm, body)
    return ConsentAnswered(form.accepted, form.notice_version, form.assisted)


def parse_language(body: bytes) -> str:
    return _validated(LanguageForm, body).language
