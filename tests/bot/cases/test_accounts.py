"""Staff accounts on a real SQLite database: password rules, usernames, roles, lockout."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from bot.cases.accounts import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    MIN_PASSWORD_LENGTH,
    AccountError,
    authenticate,
    create_user,
    hash_password,
    set_password,
)
from bot.db.models import ROLES, StaffUser, utcnow
from bot.db.session import session_scope

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "staple lamp orbit 42"


@pytest.fixture
def sam(database_url) -> str:
    with session_scope(database_url) as session:
        create_user(session, "sam", PASSWORD, "staff")
    return database_url


def login(database_url: str, username: str, password: str):
    with session_scope(database_url) as session:
        result = authenticate(session, username, password)
        return (result.user.username if result.user else None), result.locked


def user(database_url: str, username: str = "sam") -> StaffUser:
    with session_scope(database_url) as session:
        return session.scalars(select(StaffUser).where(StaffUser.username == username)).one()


# --- passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("", False),
        ("a" * (MIN_PASSWORD_LENGTH - 1), False),
        ("a" * MIN_PASSWORD_LENGTH, True),
        ("twelve chars", True),
        ("ünïcödé-pässwörd", True),
    ],
)
def test_password_length_rule(password, accepted):
    if accepted:
        hashed = hash_password(password)
        assert hashed.startswith("scrypt:")
        assert password not in hashed
        assert check_password_hash(hashed, password)
        assert not check_password_hash(hashed, password + "x")
    else:
        with pytest.raises(AccountError, match=f"at least {MIN_PASSWORD_LENGTH} characters"):
            hash_password(password)


def test_the_same_password_hashes_differently_each_time():
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted


# --- create_user --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "stored"),
    [
        ("sam", "sam"),
        ("  Sam.Smith ", "sam.smith"),
        ("ab", "ab"),
        ("nurse_2", "nurse_2"),
        ("dr-o-neill", "dr-o-neill"),
        ("a" * 64, "a" * 64),
        ("0day", "0day"),
    ],
)
def test_usernames_accepted(database_url, username, stored):
    with session_scope(database_url) as session:
        assert create_user(session, username, PASSWORD, "staff").username == stored
    assert user(database_url, stored).failed_logins == 0


@pytest.mark.parametrize(
    "username",
    ["", "a", "a" * 65, "-sam", ".sam", "_sam", "sam smith", "sam@clinic", "sám", "sam/admin"],
)
def test_usernames_refused(database_url, username):
    with session_scope(database_url) as session:
        with pytest.raises(AccountError, match="usernames are 2-64 characters"):
            create_user(session, username, PASSWORD, "staff")
        assert session.scalars(select(StaffUser)).all() == []


@pytest.mark.parametrize("role", ROLES)
def test_roles_accepted(database_url, role):
    with session_scope(database_url) as session:
        create_user(session, "kim", PASSWORD, role)
    assert user(database_url, "kim").role == role


@pytest.mark.parametrize("role", ["root", "Admin", "", "superuser"])
def test_roles_refused(database_url, role):
    with session_scope(database_url) as session:
        with pytest.raises(AccountError, match="role must be one of staff, admin"):
            create_user(session, "kim", PASSWORD, role)


def test_a_username_is_taken_whatever_its_case(sam):
    with session_scope(sam) as session:
        with pytest.raises(AccountError, match="user sam already exists"):
            create_user(session, " SAM ", PASSWORD, "admin")


def test_a_short_password_creates_no_account(database_url):
    with session_scope(database_url) as session:
        with pytest.raises(AccountError):
            create_user(session, "kim", "short", "staff")
        assert session.scalars(select(StaffUser)).all() == []


def test_the_password_is_stored_hashed(sam):
    stored = user(sam)
    assert PASSWORD not in stored.password_hash
    assert check_password_hash(stored.password_hash, PASSWORD)
    assert stored.active is True


# --- authenticate ----------------------------------------------------------------------------


def test_a_right_password_logs_in_and_records_when(sam):
    before = utcnow()
    assert login(sam, "sam", PASSWORD) == ("sam", False)
    assert user(sam).last_login_at >= before


@pytest.mark.parametrize("typed", ["SAM", " sam ", "Sam"])
def test_the_username_is_not_case_sensitive_at_login(sam, typed):
    assert login(sam, typed, PASSWORD) == ("sam", False)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("sam", "wrong-password-123"),
        ("sam", PASSWORD.upper()),
        ("sam", ""),
        ("nobody", PASSWORD),
    ],
)
def test_a_wrong_login_is_refused_without_saying_why(sam, username, password):
    assert login(sam, username, password) == (None, False)


def test_a_deactivated_account_cannot_log_in(sam):
    with session_scope(sam) as session:
        session.scalars(select(StaffUser)).one().active = False
    assert login(sam, "sam", PASSWORD) == (None, False)


def test_failed_logins_are_counted(sam):
    login(sam, "sam", "wrong-password-123")
    login(sam, "sam", "wrong-password-123")
    assert user(sam).failed_logins == 2
    assert user(sam).last_login_at is None


def test_lockout_after_repeated_failures(sam):
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert login(sam, "sam", "wrong-password-123") == (None, False)
    before = utcnow()
    assert login(sam, "sam", "wrong-password-123") == (None, True)  # the fifth
    locked = user(sam)
    assert before + LOCKOUT <= locked.locked_until <= utcnow() + LOCKOUT
    assert locked.failed_logins == 0
    # now even the right password is refused, and said to be locked
    assert login(sam, "sam", PASSWORD) == (None, True)
    assert user(sam).last_login_at is None


def test_lockout_ends_after_the_lockout_period(sam):
    for _ in range(MAX_FAILED_LOGINS):
        login(sam, "sam", "wrong-password-123")
    with session_scope(sam) as session:
        session.scalars(select(StaffUser)).one().locked_until = utcnow() - dt.timedelta(seconds=1)
    assert login(sam, "sam", PASSWORD) == ("sam", False)
    assert user(sam).locked_until is None


def test_a_successful_login_resets_the_count(sam):
    for _ in range(MAX_FAILED_LOGINS - 1):
        login(sam, "sam", "wrong-password-123")
    assert login(sam, "sam", PASSWORD) == ("sam", False)
    assert user(sam).failed_logins == 0
    assert login(sam, "sam", "wrong-password-123") == (None, False)
    assert user(sam).failed_logins == 1


def test_the_documented_lockout_policy():
    assert MAX_FAILED_LOGINS == 5
    assert dt.timedelta(minutes=15) == LOCKOUT


# --- set_password -------------------------------------------------------------------------------


def test_set_password_replaces_the_old_one(sam):
    with session_scope(sam) as session:
        set_password(session, "sam", NEW_PASSWORD)
    assert login(sam, "sam", PASSWORD) == (None, False)
    assert login(sam, "sam", NEW_PASSWORD) == ("sam", False)


def test_set_password_unlocks_a_locked_account(sam):
    for _ in range(MAX_FAILED_LOGINS):
        login(sam, "sam", "wrong-password-123")
    assert user(sam).locked_until is not None
    with session_scope(sam) as session:
        set_password(session, "sam", NEW_PASSWORD)
    unlocked = user(sam)
    assert (unlocked.locked_until, unlocked.failed_logins) == (None, 0)
    assert login(sam, "sam", NEW_PASSWORD) == ("sam", False)


def test_set_password_resets_the_failure_count(sam):
    for _ in range(MAX_FAILED_LOGINS - 1):
        login(sam, "sam", "wrong-password-123")
    with session_scope(sam) as session:
        set_password(session, "sam", NEW_PASSWORD)
    assert login(sam, "sam", "wrong-password-123") == (None, False)  # 1 of 5, not 5 of 5


def test_set_password_keeps_the_rules(sam):
    with session_scope(sam) as session:
        with pytest.raises(AccountError, match="at least"):
            set_password(session, "sam", "short")
    assert login(sam, "sam", PASSWORD) == ("sam", False)


def test_set_password_of_an_unknown_user(sam):
    with session_scope(sam) as session:
        with pytest.raises(AccountError, match="no user kim"):
            set_password(session, "kim", NEW_PASSWORD)


def test_set_password_finds_the_account_as_it_was_created(database_url):
    with session_scope(database_url) as session:
        create_user(session, "Sam", PASSWORD, "staff")
    with session_scope(database_url) as session:
        set_password(session, "Sam", NEW_PASSWORD)
    assert login(database_url, "Sam", NEW_PASSWORD) == ("sam", False)
