"""The console's pages. Every handler signs the staff member in from the cookie first; pages
with personal data check the operator role and write an audit row before they render."""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import OKPKey
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from device.bureau.console import web
from device.bureau.console.alarms import AlarmPolicy, alarms, last_seen_ns, online
from device.bureau.console.auth import Accounts, AuthError, Staff, same_token
from device.bureau.console.chart import daily_bars
from device.bureau.console.queries import Queries, ResultFilter, day_counts
from device.bureau.console.recorder import FleetRecorder
from device.fleet.sign import sign_command

CSV_COLUMNS = ("id_number", "name", "decision", "time_utc", "device_id", "district", "jti")


@dataclass(frozen=True)
class CommandSigner:
    """The operator key the console signs fleet commands with (it stays on this machine)."""

    key: OKPKey
    kid: str
    commands: frozenset[str]
    ttl_s: float = 300.0


class Console:
    def __init__(self, queries: Queries, accounts: Accounts, signer: CommandSigner | None = None,
                 recorder: FleetRecorder | None = None,
                 policy: AlarmPolicy | None = None) -> None:
        self.queries, self.accounts, self.signer = queries, accounts, signer
        self.recorder, self.policy = recorder, policy or AlarmPolicy()
        self.templates = web.templates()

    def render(self, request: Request, name: str, context: dict[str, Any],
               status_code: int = 200) -> Response:
        return web.secure(self.templates.TemplateResponse(request, name, context,
                                                          status_code=status_code))

    def _staff(self, request: Request) -> Staff | None:
        try:
            return web.current(request, self.accounts)
        except AuthError:
            return None

    # ------------------------------------------------------------------ sign in / out
    async def login_page(self, request: Request) -> Response:
        token = web.login_token()
        page = self.render(request, "login.html", {"csrf": token, "error": None, "staff": None})
        page.set_cookie(web.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
        return page

    async def login(self, request: Request) -> Response:
        form = await request.form()
        try:
            if not same_token(request.cookies.get(web.LOGIN_CSRF_COOKIE, ""),
                                  str(form.get("csrf", ""))):
                raise AuthError("the sign-in form expired; try again")
            web.check_origin(request)
            token = self.accounts.sign_in(str(form.get("username", "")),
                                          str(form.get("password", "")))
        except AuthError as exc:
            again = web.login_token()
            page = self.render(request, "login.html", {"csrf": again, "error": str(exc),
                                                       "staff": None}, status_code=401)
            page.set_cookie(web.LOGIN_CSRF_COOKIE, again, httponly=True, samesite="strict")
            return page
        response = web.secure(RedirectResponse("/", status_code=303))
        response.set_cookie(web.COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https",
                            max_age=int(self.accounts.policy.absolute_s))
        response.delete_cookie(web.LOGIN_CSRF_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is not None:
            web.check_csrf(request, staff, await request.form())
            self.accounts.sign_out(request.cookies.get(web.COOKIE))
        response = web.to_login()
        response.delete_cookie(web.COOKIE)
        return response

    # ------------------------------------------------------------------ pages
    async def fleet(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        rows = [(s, online(s), last_seen_ns(s), alarms(s, self.policy))
                for s in self.queries.fleet()]
        return self.render(request, "fleet.html", {"staff": staff, "rows": rows})

    async def kiosk(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        device = request.path_params["device"]
        state = self.queries.device(device)
        recent = self.queries.results(ResultFilter(device=device, limit=20))
        return self.render(request, "kiosk.html", {
            "staff": staff, "device": device, "state": state,
            "online": state is not None and online(state),
            "alarms": alarms(state, self.policy) if state else (),
            "history": self.queries.telemetry_history(device),
            "jobs": self.queries.jobs(device), "recent": recent,
            "commands": sorted(self.signer.commands) if self.signer else [],
            "sent": request.query_params.get("sent")})

    async def results(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        flt = _filter(request)
        personal = request.query_params.get("personal") == "1"
        if personal and not staff.may("personal"):
            return web.refused(self.render, request, staff, "personal data needs the operator role")
        rows: list[Any]
        if personal:
            self.queries.audit(staff.username, "view_personal", "results", _describe(flt))
            rows = self.queries.personal_results(flt)
        else:
            rows = [(row, None) for row in self.queries.results(flt)]
        by_day = self.queries.rates(flt, "day")
        return self.render(request, "results.html", {
            "staff": staff, "flt": flt, "rows": rows, "personal": personal,
            "by_device": self.queries.rates(flt, "device"), "by_day": by_day,
            "chart": daily_bars(day_counts(by_day))})

    async def export_csv(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        if not staff.may("export"):
            return web.refused(self.render, request, staff, "the export needs the operator role")
        flt = _filter(request)
        rows = self.queries.export_rows(flt)
        self.queries.audit(staff.username, "export_csv", "results",
                           f"{_describe(flt)} rows={len(rows)}")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row, person in rows:
            writer.writerow((person.get("id_number", ""), person.get("name", ""), row.decision,
                             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.iat)),
                             row.device_id, row.tenant, row.jti))
        return web.secure(Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                                   headers={"Content-Disposition":
                                            'attachment; filename="results.csv"'}))

    async def dead_letters(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        return self.render(request, "deadletters.html",
                           {"staff": staff, "rows": self.queries.dead_letters()})

    async def audit(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        if not staff.may("personal"):
            return web.refused(self.render, request, staff, "the audit log needs the operator role")
        return self.render(request, "audit.html",
                           {"staff": staff, "rows": self.queries.audit_rows()})

    async def command(self, request: Request) -> Response:
        staff = self._staff(request)
        if staff is None:
            return web.to_login()
        form = await request.form()
        try:
            web.check_csrf(request, staff, form)
        except AuthError as exc:
            return web.refused(self.render, request, staff, str(exc))
        if not staff.may("command"):
            return web.refused(self.render, request, staff, "fleet commands need the operator role")
        device, name = request.path_params["device"], str(form.get("command", ""))
        why = self._send(staff, device, name, str(form.get("params") or "{}"))
        if why:
            return web.refused(self.render, request, staff, why)
        return web.secure(RedirectResponse(f"/kiosk/{device}?sent={name}", status_code=303))

    def _send(self, staff: Staff, device: str, name: str, params_text: str) -> str | None:
        state = self.queries.device(device)
        if self.signer is None or self.recorder is None:
            return "this console has no operator key"
        if name not in self.signer.commands:
            return f"the console's key does not allow {name}"
        if state is None:
            return "unknown kiosk"
        try:
            params = json.loads(params_text)
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return "parameters must be a JSON object"
        jti = secrets.token_hex(16)
        token = sign_command(self.signer.key, self.signer.kid, device, name, params,
                             ttl_s=self.signer.ttl_s, jti=jti)
        self.queries.record_job(jti, device, name, staff.username, time.time_ns())
        self.queries.audit(staff.username, "command", device, name)
        self.recorder.send(state.tenant, device, name, token)
        return None


def _filter(request: Request) -> ResultFilter:
    q = request.query_params
    day = q.get("day", "")
    if day and not (len(day) == 10 and day[4] == "-" and day[7] == "-"
                    and day.replace("-", "").isdigit()):
        day = ""
    return ResultFilter(q.get("district", ""), q.get("device", ""), day,
                        q.get("decision", ""))


def _describe(flt: ResultFilter) -> str:
    return (f"district={flt.district or '*'} device={flt.device or '*'} day={flt.day or '*'} "
            f"decision={flt.decision or '*'}")
