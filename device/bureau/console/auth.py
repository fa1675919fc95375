"""Staff accounts, sessions, CSRF tokens and roles.

Passwords are argon2id hashes (argon2-cffi). A session is a random cookie token of which only
the SHA-256 is stored; it ends after `idle_s` without a request or `absolute_s` after sign-in,
whichever comes first. Each session carries its own CSRF token, which every form posts back.
Roles and their permissions are in roles.py.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from device.bureau.console.db import Database
from device.bureau.console.roles import ROLES, allowed
from device.errors import FacetermError

MIN_PASSWORD = 12


class AuthError(FacetermError):
    """Sign-in refused, session missing or expired, or a CSRF token that does not match."""


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_s: float = 30 * 60.0
    absolute_s: float = 8 * 3600.0


@dataclass(frozen=True, slots=True)
class Staff:
    username: str
    role: str
    csrf: str

    def may(self, action: str) -> bool:
        return allowed(self.role, action)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


class Accounts:
    def __init__(self, db: Database, policy: SessionPolicy = SessionPolicy()) -> None:
        self.db, self.policy = db, policy
        self._hasher = PasswordHasher()

    def add(self, username: str, password: str, role: str) -> None:
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}")
        if not username.isidentifier() or len(password) < MIN_PASSWORD:
            raise AuthError(f"username must be a word, password at least {MIN_PASSWORD} chars")
        digest = self._hasher.hash(password)
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM console_accounts WHERE username = ?", (username,))
            cur.execute("INSERT INTO console_accounts VALUES (?,?,?,?)",
                        (username, digest, role, time.time_ns()))

    def sign_in(self, username: str, password: str, now_ns: int | None = None) -> str:
        """A new session token for good credentials; AuthError otherwise (same message)."""
        with self.db.transaction() as cur:
            row = cur.one("SELECT password_hash, role FROM console_accounts WHERE username = ?",
                          (username,))
        if row is None or not self._verify(str(row[0]), password):
            raise AuthError("unknown user or wrong password")
        token, now = secrets.token_urlsafe(32), now_ns or time.time_ns()
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO console_sessions VALUES (?,?,?,?,?,?)",
                        (token_digest(token), username, str(row[1]),
                         secrets.token_urlsafe(32), now, now))
        return token

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(digest, password))
        except (VerificationError, InvalidHashError):
            return False

    def session(self, token: str | None, now_ns: int | None = None) -> Staff:
        """The signed-in staff member for a cookie token; AuthError if none or expired."""
        if not token:
            raise AuthError("not signed in")
        now, key = now_ns or time.time_ns(), token_digest(token)
        with self.db.transaction() as cur:
            row = cur.one("SELECT username, role, csrf, created_ns, seen_ns FROM "
                          "console_sessions WHERE token_sha256 = ?", (key,))
            expired = row is not None and self._expired(int(row[3]), int(row[4]), now)
            if expired:
                cur.execute("DELETE FROM console_sessions WHERE token_sha256 = ?", (key,))
            elif row is not None:
                cur.execute("UPDATE console_sessions SET seen_ns = ? WHERE token_sha256 = ?",
                            (now, key))
        if row is None:
            raise AuthError("not signed in")
        if expired:
            raise AuthError("session expired")
        return Staff(str(row[0]), str(row[1]), str(row[2]))

    def _expired(self, created_ns: int, seen_ns: int, now_ns: int) -> bool:
        return (now_ns - seen_ns > self.policy.idle_s * 1e9
                or now_ns - created_ns > self.policy.absolute_s * 1e9)

    def sign_out(self, token: str | None) -> None:
        if token:
            with self.db.transaction() as cur:
                cur.execute("DELETE FROM console_sessions WHERE token_sha256 = ?",
                            (token_digest(token),))
