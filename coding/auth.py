"""Local accounts and login sessions: argon2 passwords, signed expiring session tokens, role permissions.

Everything is stored through the Project (no SQL here). A session token is `<session id>.<signature>`:
the id is random and names a row of the sessions table, the signature is an HMAC-SHA256 of the id with
a secret kept in the project's settings. A token works until it expires or its session is revoked
(logout, deactivation), wherever it is used: every check asks the database.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coding.errors import LoginFailed, WeakPasswordError
from coding.store.project import ROLES, Project

__all__ = ["ACTIONS", "ROLES", "Session", "can", "check_password", "create_account", "ensure_admin",
           "hash_password", "login", "logout", "session_from_token", "set_password", "verify_password"]

ACTIONS = ("code", "edit_codebook", "manage_users", "import", "edit_attributes")
_CODER = frozenset({"code", "import", "edit_attributes"})
PERMISSIONS: dict[str, frozenset[str]] = {"coder": _CODER, "lead": _CODER | {"edit_codebook"},
                                          "admin": frozenset(ACTIONS)}

ADMIN = "admin"
ADMIN_PASSWORD_ENV = "CODEWERK_ADMIN_PASSWORD"
MIN_PASSWORD_LENGTH = 10
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FAILED = "unknown user or wrong password"
_SECRET_SETTING = "session_secret"
_CHANGE_SETTING = "password_change_required:"  # + user name

# argon2id with the library's default parameters; tests replace it with a cheaper one.
hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None


@dataclass(frozen=True)
class Session:
    """A logged-in user: who, with which role, the token for the cookie, and when it expires."""

    user: str
    role: str
    display_name: str
    token: str
    expires_at: str  # ISO 8601, UTC, as stored
    must_change_password: bool = False

    @property
    def expires_at_datetime(self) -> datetime:
        return datetime.fromisoformat(self.expires_at)


def utcnow() -> datetime:
    """The current time, UTC, time-zone aware (what session expiry is compared with)."""
    return datetime.now(timezone.utc)


# -- passwords ---------------------------------------------------------------------------------
def check_password(password: str, name: str | None = None) -> None:
    """Raise WeakPasswordError, saying what to do, when a new password breaks the rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"the password has {len(password)} characters; it needs at least "
                                f"{MIN_PASSWORD_LENGTH} (a few words in a row are long and easy to remember)")
    if name and password.strip().casefold() == name.strip().casefold():
        raise WeakPasswordError("the password must not be the user name; choose something only you know")


def hash_password(password: str) -> str:
    """The argon2id hash of a password, with its salt and parameters, as stored."""
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash (False for a damaged hash, too)."""
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """A hash to check passwords of unknown users against, so they take as long as known ones."""
    global _dummy
    if _dummy is None or _dummy[0] is not hasher:
        _dummy = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


# -- accounts ----------------------------------------------------------------------------------
def create_account(project: Project, name: str, role: str, password: str, by: str,
                   display_name: str | None = None) -> None:
    """Add a user who can log in (refuses a taken name, an unknown role and a weak password)."""
    check_password(password, name)
    project.add_user(name, role, display_name, hash_password(password), by)


def set_password(project: Project, name: str, password: str, by: str) -> None:
    """Give a user a new password. Set by someone else (an admin's reset), it must be changed at the
    next login; set by the user, that requirement ends. Sessions stay: end them with revoke_sessions_of."""
    check_password(password, name)
    project.set_password_hash(name, hash_password(password), by)
    if by == name:
        project.set_setting(_CHANGE_SETTING + name, None)
    else:
        require_password_change(project, name)


def change_password(project: Project, name: str, current: str, new: str) -> None:
    """A user changes their own password; the current one must be given (a left-open browser is not enough)."""
    user = project.user(name)
    if user is None or not user["password_hash"] or not verify_password(user["password_hash"], current):
        raise LoginFailed("the current password is wrong")
    set_password(project, name, new, by=name)


def require_password_change(project: Project, name: str) -> None:
    """Mark a user's password as temporary: their sessions say must_change_password until they change it."""
    project.set_setting(_CHANGE_SETTING + name, "1")


def password_change_required(project: Project, name: str) -> bool:
    return project.setting(_CHANGE_SETTING + name) is not None


def ensure_admin(project: Project, env: Mapping[str, str] = os.environ) -> str | None:
    """On first start (nobody has a password yet) create the account `admin` with role admin.

    Its password is CODEWERK_ADMIN_PASSWORD when set (then None is returned), else a generated
    one-time password, returned so the caller can print it; it must be changed at the first login.
    Returns None, and changes nothing, once any account has a password.
    """
    if any(user["password_hash"] for user in project.users()):
        return None
    given = env.get(ADMIN_PASSWORD_ENV) or None
    if given:
        try:
            check_password(given, ADMIN)
        except WeakPasswordError as e:
            raise WeakPasswordError(f"{ADMIN_PASSWORD_ENV}: {e}") from None
    password = given or secrets.token_urlsafe(12)
    if not project.add_first_account(ADMIN, "admin", None, hash_password(password)):
        return None  # another process created the first account meanwhile
    if given:
        return None
    require_password_change(project, ADMIN)
    return password


# -- sessions ----------------------------------------------------------------------------------
def login(project: Project, name: str, password: str, *, lifetime: timedelta = SESSION_LIFETIME) -> Session:
    """Check name and password and start a session; raises LoginFailed without saying which was wrong."""
    name = name.strip()
    user = project.user(name)
    stored = user["password_hash"] if user else None
    # An unknown user (or one without a password) is checked against a dummy hash, so a failure
    # takes as long either way and the time does not tell which names exist.
    matches = verify_password(stored or _dummy_hash(), password)
    if not (matches and stored):
        raise LoginFailed(LOGIN_FAILED)
    if not user["active"]:
        raise LoginFailed(f"the account '{name}' is deactivated; ask an admin to activate it again")
    if hasher.check_needs_rehash(stored):  # the hashing parameters changed since it was stored
        project.set_password_hash(name, hash_password(password), by=name)
    session_id = project.create_session(name, utcnow() + lifetime)
    return _session(project, user, session_id, project.session(session_id)["expires_at"])


def session_from_token(project: Project, token: str | None, *, at: datetime | None = None) -> Session | None:
    """The session a token (from the cookie) stands for, or None when it is forged, unknown, revoked
    or expired (at `at`, default now), or its user has been deactivated."""
    session_id = _verified_id(project, token)
    row = project.session(session_id) if session_id else None
    if row is None or row["revoked_at"] or datetime.fromisoformat(row["expires_at"]) <= (at or utcnow()):
        return None
    user = project.user(row["user"])
    if user is None or not user["active"] or not user["password_hash"]:
        return None
    return _session(project, user, session_id, row["expires_at"])


def logout(project: Project, token: str | None) -> None:
    """End the token's session for good: the token no longer works anywhere (a bad token: nothing)."""
    session_id = _verified_id(project, token)
    row = project.session(session_id) if session_id else None
    if row is not None:
        project.revoke_session(session_id, by=row["user"])


def _session(project: Project, user: dict, session_id: str, expires_at: str) -> Session:
    return Session(user=user["name"], role=user["role"], display_name=user["display_name"] or user["name"],
                   token=f"{session_id}.{_signature(project, session_id)}", expires_at=expires_at,
                   must_change_password=password_change_required(project, user["name"]))


def _verified_id(project: Project, token: str | None) -> str | None:
    """The session id of a token whose signature is right, else None."""
    if not token or "." not in token:
        return None
    session_id, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _signature(project, session_id).encode()):
        return None
    return session_id


def _signature(project: Project, session_id: str) -> str:
    digest = hmac.new(_secret(project), session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _secret(project: Project) -> bytes:
    """The project's signing secret, created on first use (two processes at once agree on one)."""
    secret = project.setting(_SECRET_SETTING)
    if secret is None:
        secret = project.set_setting(_SECRET_SETTING, secrets.token_hex(32), overwrite=False)
    return secret.encode()


# -- permissions -------------------------------------------------------------------------------
def can(role: str, action: str) -> bool:
    """Whether a role may do an action (an unknown role may do nothing; an unknown action is a bug)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action '{action}'; actions are {', '.join(ACTIONS)}")
    return action in PERMISSIONS.get(role, frozenset())
