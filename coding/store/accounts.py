"""Login accounts, sessions and project settings (mixed into Project; the SQL stays in the store).

Password hashes and session ids never reach the event log. A session's id is stored only as its
SHA-256, so a copy of the project file (a backup, say) holds nothing that logs anybody in.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any

from coding.errors import StoreError
from coding.store.database import now, write_transaction


def _check_role(role: str) -> None:
    from coding.store.project import ROLES  # imported here: project.py imports this module

    if role not in ROLES:
        raise StoreError(f"unknown role '{role}'; roles are {', '.join(ROLES)}")


def _session_key(session_id: str) -> str:
    """What the sessions table stores for a session id (its SHA-256)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A user row fit for the event log: without the password hash."""
    return {k: v for k, v in row.items() if k != "password_hash"}


class AccountsMixin:
    """Users with passwords and roles, login sessions, and key/value settings of the project."""

    # -- users -------------------------------------------------------------------------------
    def user(self, name: str) -> dict[str, Any] | None:
        """One user with role, `active` (bool) and `password_hash` (None for CLI users), or None."""
        rows = list(self.db["users"].rows_where("name = ?", [name]))
        if not rows:
            return None
        row = rows[0]
        row["active"] = bool(row["active"])
        return row

    def add_user(self, name: str, role: str, display_name: str | None, password_hash: str, by: str) -> None:
        """Create a login account; refuses a name that is already taken."""
        name = name.strip()
        if not name:
            raise StoreError("a user needs a name")
        _check_role(role)
        with write_transaction(self.db):
            if self.db["users"].count_where("name = ?", [name]):
                raise StoreError(f"there is already a user '{name}'; choose another name, "
                                 f"or change that user's role or password instead")
            row = {"name": name, "display_name": display_name or name, "role": role, "created_at": now(),
                   "password_hash": password_hash, "active": 1}
            self.db["users"].insert(row)
            self._log(by, "user.created", "user", name, None, _public(row))

    def add_first_account(self, name: str, role: str, display_name: str | None, password_hash: str) -> bool:
        """Give `name` the project's first password, atomically; False (nothing done) once anybody has one.

        A user of that name made by the CLI (without a password) becomes the account.
        """
        _check_role(role)
        with write_transaction(self.db):
            if self.db["users"].count_where("password_hash IS NOT NULL"):
                return False
            before = self.user(name)
            row = {"name": name, "display_name": (before or {}).get("display_name") or display_name or name,
                   "role": role, "created_at": (before or {}).get("created_at") or now(),
                   "password_hash": password_hash, "active": 1}
            self.db["users"].upsert(row, pk="name")
            self._log(name, "user.created" if before is None else "user.password_set", "user", name,
                      None if before is None else _public(before), _public(row))
        return True

    def set_password_hash(self, name: str, password_hash: str, by: str) -> None:
        """Store a new password hash for a user (the log records that it changed, not the hash)."""
        with write_transaction(self.db):
            self._existing_user(name)
            self.db["users"].update(name, {"password_hash": password_hash})
            self._log(by, "user.password_set", "user", name, None, {"password": "changed"})

    def set_role(self, name: str, role: str, by: str) -> None:
        """Change a user's role; the last admin who can log in keeps theirs."""
        _check_role(role)
        with write_transaction(self.db):
            before = self._existing_user(name)
            if before["role"] == role:
                return
            if before["role"] == "admin":
                self._keep_an_admin(name, "take the admin role from")
            self.db["users"].update(name, {"role": role})
            self._log(by, "user.role_changed", "user", name, {"role": before["role"]}, {"role": role})

    def set_active(self, name: str, active: bool, by: str) -> None:
        """Deactivate (their sessions end at once) or reactivate a user; the last admin stays active."""
        with write_transaction(self.db):
            before = self._existing_user(name)
            if before["active"] == active:
                return
            if not active:
                if before["role"] == "admin":
                    self._keep_an_admin(name, "deactivate")
                self.revoke_sessions_of(name, by)
            self.db["users"].update(name, {"active": int(active)})
            self._log(by, "user.activated" if active else "user.deactivated", "user", name,
                      {"active": before["active"]}, {"active": active})

    def _existing_user(self, name: str) -> dict[str, Any]:
        row = self.user(name)
        if row is None:
            raise StoreError(f"no user '{name}' in {self.path}")
        return row

    def _keep_an_admin(self, name: str, doing: str) -> None:
        others = self.db["users"].count_where(
            "role = 'admin' AND active = 1 AND password_hash IS NOT NULL AND name != ?", [name])
        if not others:
            raise StoreError(f"cannot {doing} '{name}': nobody else could manage users then; "
                             f"make another user admin first")

    # -- sessions ----------------------------------------------------------------------------
    def create_session(self, user: str, expires_at: datetime) -> str:
        """Start a login session for `user` until `expires_at` (aware datetime); returns its random id."""
        if expires_at.tzinfo is None:
            raise StoreError("a session's expiry time needs a time zone")
        session_id = secrets.token_urlsafe(32)
        key = _session_key(session_id)
        with write_transaction(self.db):
            self._existing_user(user)
            row = {"id": key, "user": user, "created_at": now(),
                   "expires_at": expires_at.astimezone(timezone.utc).isoformat(timespec="microseconds")}
            self.db["sessions"].insert(row)
            self._log(user, "session.started", "session", key, None,
                      {"user": user, "expires_at": row["expires_at"]})
        return session_id

    def session(self, session_id: str) -> dict[str, Any] | None:
        """A session (user, created_at, expires_at, revoked_at as stored), or None when unknown."""
        rows = list(self.db["sessions"].rows_where("id = ?", [_session_key(session_id)]))
        return {**rows[0], "id": session_id} if rows else None

    def revoke_session(self, session_id: str, by: str) -> bool:
        """End a session for good; False when it was unknown or already ended."""
        with write_transaction(self.db):
            return self._revoke("id = ?", [_session_key(session_id)], by) == 1

    def revoke_sessions_of(self, user: str, by: str) -> int:
        """End every open session of a user (log them out everywhere); returns how many."""
        with write_transaction(self.db):
            return self._revoke("user = ?", [user], by)

    def _revoke(self, where: str, args: list[Any], by: str) -> int:
        rows = list(self.db["sessions"].rows_where(f"{where} AND revoked_at IS NULL", args))
        at = now()
        for row in rows:
            self.db["sessions"].update(row["id"], {"revoked_at": at})
            self._log(by, "session.ended", "session", row["id"], None, {"user": row["user"], "revoked_at": at})
        return len(rows)

    # -- settings ----------------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        """A project setting, or None when it is not set."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str | None, *, overwrite: bool = True) -> str | None:
        """Set (None: remove) a project setting; returns the value now stored.

        With overwrite=False an existing value is kept, so two processes creating the same setting
        at once agree on one value. Not logged: settings may hold secrets.
        """
        with write_transaction(self.db):
            if value is None:
                self.db.execute("DELETE FROM settings WHERE key = ?", [key])
                return None
            verb = "INSERT OR REPLACE" if overwrite else "INSERT OR IGNORE"
            self.db.execute(f"{verb} INTO settings (key, value) VALUES (?, ?)", [key, value])
            return self.setting(key)
