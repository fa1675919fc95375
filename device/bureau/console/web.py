"""Request plumbing shared by the views: templates, the session cookie, CSRF, security headers."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from device.bureau.console.auth import Accounts, AuthError, Staff, same_token

COOKIE = "faceterm_console"
LOGIN_CSRF_COOKIE = "faceterm_login_csrf"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def templates() -> Jinja2Templates:
    env = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
    env.env.filters["ts"] = format_ns
    env.env.autoescape = True
    return env


def format_ns(value: int | None) -> str:
    if value is None:
        return "never"
    moment = dt.datetime.fromtimestamp(value / 1e9, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def current(request: Request, accounts: Accounts) -> Staff:
    return accounts.session(request.cookies.get(COOKIE))


def check_csrf(request: Request, staff: Staff, form: Any) -> None:
    """Refuse a POST whose form token is not this session's, or that comes from elsewhere."""
    if not same_token(staff.csrf, form.get("csrf")):
        raise AuthError("CSRF token missing or wrong")
    check_origin(request)


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise AuthError("cross-site form post")


def login_token() -> str:
    return secrets.token_urlsafe(24)


def to_login() -> Response:
    return secure(RedirectResponse("/login", status_code=303))


def refused(render: Any, request: Request, staff: Staff | None, why: str) -> Response:
    page: HTMLResponse = render(request, "refused.html", {"staff": staff, "why": why},
                                status_code=403)
    return secure(page)
