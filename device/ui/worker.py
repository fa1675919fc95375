"""Worker mode: the form a home-visit worker submits from the kiosk page (a trust boundary)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from device.cardreader.idnumber import CardRejected, validate_id_number
from device.events import WorkerInput
from device.strictjson import StrictJSONError
from device.strictjson import loads as strict_loads
from device.ui.texts import NOTICE_VERSION

MAX_BODY_BYTES = 1024


class WorkerFormError(ValueError):
    """The form is refused; `code` is a stable reason the page can show."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class WorkerForm(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id_number: str = Field(min_length=18, max_length=18)
    operator_id: str = Field(pattern=r"^[A-Za-z0-9]{1,20}$")
    consent: bool


def parse_worker_form(body: bytes) -> WorkerInput:
    """Validate the posted JSON; the ID number must pass GB 11643 (check digit, birth date)."""
    if len(body) > MAX_BODY_BYTES:
        raise WorkerFormError("too_large")
    try:
        form = WorkerForm.model_validate(strict_loads(body))
    except StrictJSONError as exc:
        raise WorkerFormError("not_json") from exc
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "form"
        raise WorkerFormError(f"bad_{field}") from None  # the error would echo the input
    try:
        number = validate_id_number(form.id_number, dt.date.today())
    except CardRejected:
        raise WorkerFormError("bad_id_number") from None
    return WorkerInput(id_number=number, operator_id=form.operator_id, consent=form.consent,
                       notice_version=NOTICE_VERSION)  # the notice the worker page shows
