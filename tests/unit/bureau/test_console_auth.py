"""Console sign-in, sessions, CSRF and roles, through the real Starlette app (TestClient)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from device.bureau.console.app import build_app
from device.bureau.console.auth import Accounts, AuthError, SessionPolicy
from device.bureau.console.db import Database
from device.bureau.console.roles import allowed
from tests.support.console import PASSWORDS, console, seed_results


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def _client(tmp_path: Path) -> TestClient:
    db = tmp_path / "results.sqlite3"
    seed_results(db, (("district-1", "kiosk-1"),), 14)
    return TestClient(build_app(console(db)), follow_redirects=False)


def _sign_in(client: TestClient, user: str) -> str:
    page = client.get("/login")
    reply = client.post("/login", data={"username": user, "password": PASSWORDS[user],
                                        "csrf": _csrf(page.text)})
    assert reply.status_code == 303, reply.text
    return _csrf(client.get("/").text)


def test_roles_table() -> None:
    assert allowed("operator", "personal") and allowed("operator", "command")
    assert allowed("viewer", "view")
    for action in ("personal", "export", "command"):
        assert not allowed("viewer", action)
    assert not allowed("nobody", "view")


def test_password_is_stored_as_argon2_and_checked(tmp_path: Path) -> None:
    db = Database(path=tmp_path / "c.sqlite3")
    db.open()
    accounts = Accounts(db)
    accounts.add("li", "a-long-password", "viewer")
    with db.transaction() as cur:
        row = cur.one("SELECT password_hash FROM console_accounts")
    assert row is not None and str(row[0]).startswith("$argon2id$")
    assert "a-long-password" not in str(row[0])
    with pytest.raises(AuthError):
        accounts.sign_in("li", "wrong-password!")
    assert accounts.session(accounts.sign_in("li", "a-long-password")).role == "viewer"
    with pytest.raises(AuthError):
        accounts.add("li", "short", "viewer")
    with pytest.raises(AuthError):
        accounts.add("li", "a-long-password", "admin")


def test_sessions_expire_when_idle_and_absolutely(tmp_path: Path) -> None:
    db = Database(path=tmp_path / "c.sqlite3")
    db.open()
    accounts = Accounts(db, SessionPolicy(idle_s=60, absolute_s=3600))
    accounts.add("li", "a-long-password", "operator")
    t0 = time.time_ns()
    token = accounts.sign_in("li", "a-long-password", now_ns=t0)
    accounts.session(token, now_ns=t0 + 59 * 10**9)  # a request keeps it alive
    with pytest.raises(AuthError, match="expired"):
        accounts.session(token, now_ns=t0 + 59 * 10**9 + 61 * 10**9)
    with pytest.raises(AuthError, match="not signed in"):  # and it is gone
        accounts.session(token, now_ns=t0 + 130 * 10**9)
    token = accounts.sign_in("li", "a-long-password", now_ns=t0)
    now = t0
    for _ in range(70):  # active every 59 s, but past the absolute limit
        now += 59 * 10**9
        if now - t0 > 3600 * 10**9:
            with pytest.raises(AuthError, match="expired"):
                accounts.session(token, now_ns=now)
            break
        accounts.session(token, now_ns=now)
    else:
        pytest.fail("the absolute limit never applied")


def test_pages_need_a_session(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for path in ("/", "/results", "/kiosk/kiosk-1", "/dead-letters", "/results.csv"):
        reply = client.get(path)
        assert reply.status_code == 303 and reply.headers["location"] == "/login", path
    client.cookies.set("faceterm_console", "forged-token")
    assert client.get("/").status_code == 303


def test_sign_in_needs_the_login_csrf_token(tmp_path: Path) -> None:
    client = _client(tmp_path)
    client.get("/login")
    reply = client.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"],
                                        "csrf": "not-the-token"})
    assert reply.status_code == 401 and "faceterm_console" not in reply.cookies
    page = client.get("/login")
    reply = client.post("/login", data={"username": "viewer", "password": "wrong-password",
                                        "csrf": _csrf(page.text)})
    assert reply.status_code == 401 and "unknown user or wrong password" in reply.text


def test_forms_without_the_session_csrf_token_are_refused(tmp_path: Path) -> None:
    client = _client(tmp_path)
    token = _sign_in(client, "operator")
    reply = client.post("/kiosk/kiosk-1/command", data={"command": "status.get"})
    assert reply.status_code == 403 and "CSRF" in reply.text
    reply = client.post("/kiosk/kiosk-1/command", data={"command": "status.get", "csrf": token},
                        headers={"origin": "https://evil.example"})
    assert reply.status_code == 403 and "cross-site" in reply.text
    reply = client.post("/logout", data={"csrf": "wrong"})
    assert reply.status_code == 403
    assert client.get("/").status_code == 200  # still signed in


def test_viewer_sees_no_personal_data_and_is_refused_operator_actions(tmp_path: Path) -> None:
    client = _client(tmp_path)
    token = _sign_in(client, "viewer")
    page = client.get("/results")
    assert page.status_code == 200 and "kiosk-1" in page.text
    assert "11010119" not in page.text and "测试" not in page.text
    assert client.get("/results?personal=1").status_code == 403
    assert client.get("/results.csv").status_code == 403
    assert client.get("/audit").status_code == 403
    reply = client.post("/kiosk/kiosk-1/command", data={"command": "status.get", "csrf": token})
    assert reply.status_code == 403 and "operator role" in reply.text
    for path in ("/", "/kiosk/kiosk-1", "/dead-letters"):
        body = client.get(path).text
        assert "11010119" not in body and "测试" not in body, path


def test_operator_views_of_personal_data_are_audited(tmp_path: Path) -> None:
    client = _client(tmp_path)
    _sign_in(client, "operator")
    page = client.get("/results?personal=1&device=kiosk-1")
    assert page.status_code == 200 and "测试" in page.text
    export = client.get("/results.csv?decision=pass")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    lines = export.text.strip().splitlines()
    assert lines[0] == "id_number,name,decision,time_utc,device_id,district,jti"
    assert len(lines) == 1 + 8 and all(",pass," in line for line in lines[1:])
    audit = client.get("/audit").text
    assert "view_personal" in audit and "export_csv" in audit and "rows=8" in audit
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
