"""Staff accounts: scrypt password hashes, lockout after repeated failed logins."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.db.models import ROLES, StaffUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# A hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    """A username, password or role that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    locked: bool = False


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, username: str, password: str, role: str) -> StaffUser:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise AccountError("usernames are 2-64 characters: a-z, 0-9, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if session.scalars(select(StaffUser).where(StaffUser.username == username)).first():
        raise AccountError(f"user {username} already exists")
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> StaffUser:
    username = username.strip().lower()  # as create_user stored it
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None:
        raise AccountError(f"no user {username}")
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    return user


def authenticate(session: Session, username: str, password: str) -> LoginResult:
    """Checks a login. After 5 failures in a row the account is locked for 15 minutes."""
    now = utcnow()
    user = session.scalars(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
    ).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None)
    if user.locked_until and user.locked_until > now:
        return LoginResult(None, locked=True)
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            return LoginResult(None, locked=True)
        return LoginResult(None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return LoginResult(user)
