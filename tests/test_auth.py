"""Local accounts and login sessions: what a user of the browser app notices."""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from coding import auth
from coding.errors import LoginFailed, StoreError, WeakPasswordError
from coding.store import Project

PASSWORD = "Quartiersbüro-2026"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters: the defaults cost ~50 ms and 64 MiB a hash."""
    monkeypatch.setattr(auth, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def p(tmp_path):
    with Project.create(tmp_path / "p.db") as project:
        auth.create_account(project, "selin", "lead", PASSWORD, by="admin", display_name="Selin Aydin")
        yield project


def test_login_with_the_right_password_gives_a_session_of_that_user(p):
    session = auth.login(p, "selin", PASSWORD)
    assert (session.user, session.role, session.display_name) == ("selin", "lead", "Selin Aydin")
    hours = (session.expires_at_datetime - auth.utcnow()).total_seconds() / 3600
    assert 11.9 < hours <= 12


@pytest.mark.parametrize("name, password", [("selin", "wrong password"), ("nobody", PASSWORD), ("", "")])
def test_a_failed_login_does_not_say_whether_name_or_password_was_wrong(p, name, password):
    with pytest.raises(LoginFailed) as failed:
        auth.login(p, name, password)
    assert str(failed.value) == "unknown user or wrong password"


def test_a_user_without_a_password_cannot_log_in(p):
    p.ensure_user("cli-user")  # created by the CLI, never given a password
    with pytest.raises(LoginFailed, match="unknown user or wrong password"):
        auth.login(p, "cli-user", "")


def test_an_unknown_user_takes_about_as_long_to_refuse_as_a_wrong_password(p, monkeypatch):
    # Costly enough that the hash dominates; without the dummy check the unknown user is ~100x faster.
    monkeypatch.setattr(auth, "hasher", PasswordHasher(time_cost=2, memory_cost=2**14, parallelism=1))
    auth.set_password(p, "selin", PASSWORD, by="selin")

    def median_seconds(name: str) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            with pytest.raises(LoginFailed):
                auth.login(p, name, "wrong password")
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    median_seconds("nobody")  # the first unknown user also computes the dummy hash
    assert median_seconds("nobody") > 0.5 * median_seconds("selin")


def test_the_token_survives_a_reload(p):
    token = auth.login(p, "selin", PASSWORD).token
    again = auth.session_from_token(p, token)
    assert again is not None and (again.user, again.role, again.token) == ("selin", "lead", token)


def test_the_token_works_in_another_process_of_the_same_project(p):
    token = auth.login(p, "selin", PASSWORD).token
    with Project(p.path) as other:
        assert auth.session_from_token(other, token).user == "selin"


def test_logout_makes_the_token_useless_everywhere(p):
    token = auth.login(p, "selin", PASSWORD).token
    other_browser = auth.login(p, "selin", PASSWORD).token
    auth.logout(p, token)
    assert auth.session_from_token(p, token) is None
    with Project(p.path) as other:
        assert auth.session_from_token(other, token) is None
    assert auth.session_from_token(p, other_browser).user == "selin"  # only that session ended


def test_a_token_is_refused_after_it_expires(p):
    token = auth.login(p, "selin", PASSWORD, lifetime=timedelta(hours=12)).token
    assert auth.session_from_token(p, token, at=auth.utcnow() + timedelta(hours=11)) is not None
    assert auth.session_from_token(p, token, at=auth.utcnow() + timedelta(hours=12, seconds=1)) is None


def test_a_tampered_token_is_refused(p, tmp_path):
    token = auth.login(p, "selin", PASSWORD).token
    session_id, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in [f"{session_id}.{flipped}", session_id, f"{session_id}.", f".{signature}", "",
                   None, f"{session_id}x.{signature}", "ä.ö"]:
        assert auth.session_from_token(p, forged) is None
    # Signed with another project's secret: refused.
    with Project.create(tmp_path / "other.db") as other:
        auth.create_account(other, "selin", "admin", PASSWORD, by="admin")
        foreign = auth.login(other, "selin", PASSWORD).token
    assert auth.session_from_token(p, f"{session_id}.{foreign.split('.')[1]}") is None


def test_revoked_sessions_are_refused(p):
    first, second = (auth.login(p, "selin", PASSWORD).token for _ in range(2))
    assert p.revoke_sessions_of("selin", by="admin") == 2
    assert auth.session_from_token(p, first) is None and auth.session_from_token(p, second) is None


def test_a_deactivated_users_session_stops_working_and_they_cannot_log_in(p):
    token = auth.login(p, "selin", PASSWORD).token
    p.set_active("selin", False, by="admin")
    assert auth.session_from_token(p, token) is None
    with pytest.raises(LoginFailed, match="deactivated; ask an admin"):
        auth.login(p, "selin", PASSWORD)
    p.set_active("selin", True, by="admin")
    assert auth.session_from_token(p, token) is None  # reactivation does not bring old sessions back
    assert auth.login(p, "selin", PASSWORD).user == "selin"


def test_a_role_change_applies_to_open_sessions(p):
    token = auth.login(p, "selin", PASSWORD).token
    p.set_role("selin", "coder", by="admin")
    assert auth.session_from_token(p, token).role == "coder"


def test_the_last_admin_cannot_be_demoted_or_deactivated(tmp_path):
    with Project.create(tmp_path / "p.db") as p:
        auth.ensure_admin(p, env={})
        with pytest.raises(StoreError, match="make another user admin first"):
            p.set_role("admin", "coder", by="admin")
        with pytest.raises(StoreError, match="make another user admin first"):
            p.set_active("admin", False, by="admin")
        auth.create_account(p, "maria", "admin", "maria's long password", by="admin")
        p.set_active("admin", False, by="maria")
        assert not p.user("admin")["active"]


def test_first_start_creates_admin_with_a_one_time_password_exactly_once(tmp_path):
    with Project.create(tmp_path / "p.db") as p:
        password = auth.ensure_admin(p, env={})
        assert password and len(password) >= auth.MIN_PASSWORD_LENGTH
        session = auth.login(p, "admin", password)
        assert session.role == "admin" and session.must_change_password
        assert auth.ensure_admin(p, env={}) is None
        assert auth.ensure_admin(p, env={"CODEWERK_ADMIN_PASSWORD": "a different password"}) is None
        assert auth.login(p, "admin", password).user == "admin"  # unchanged by the later calls
        auth.set_password(p, "admin", "my own admin password", by="admin")
        assert not auth.login(p, "admin", "my own admin password").must_change_password


def test_first_start_takes_the_admin_password_from_the_environment(tmp_path):
    env = {"CODEWERK_ADMIN_PASSWORD": "from the environment"}
    with Project.create(tmp_path / "p.db") as p:
        assert auth.ensure_admin(p, env=env) is None  # nothing to print: the operator knows it
        session = auth.login(p, "admin", "from the environment")
        assert session.role == "admin" and not session.must_change_password
        assert auth.ensure_admin(p, env=env) is None
        assert [u["name"] for u in p.users()] == ["admin"]


def test_first_start_refuses_a_short_environment_password(tmp_path):
    with Project.create(tmp_path / "p.db") as p:
        with pytest.raises(WeakPasswordError, match="CODEWERK_ADMIN_PASSWORD: .*at least 10"):
            auth.ensure_admin(p, env={"CODEWERK_ADMIN_PASSWORD": "short"})
        assert p.users() == []


def test_first_start_gives_a_password_to_a_cli_user_named_admin(tmp_path):
    with Project.create(tmp_path / "p.db") as p:
        p.ensure_user("admin")  # the CLI created it as a coder, without a password
        password = auth.ensure_admin(p, env={})
        assert auth.login(p, "admin", password).role == "admin"


def test_passwords_hashes_and_tokens_never_appear_in_the_database_or_log(p):
    session = auth.login(p, "selin", PASSWORD)
    auth.set_password(p, "selin", "a brand new password", by="selin")
    auth.logout(p, session.token)
    dump = p.dump()
    session_id = session.token.split(".")[0]
    for secret in [PASSWORD, "a brand new password", session.token, session_id]:
        assert secret not in dump
    assert p.user("selin")["password_hash"].startswith("$argon2id$")
    log = str(p.events())
    assert "$argon2" not in log and session_id not in log
    assert {"user.created", "user.password_set", "session.started", "session.ended"} <= {
        e["action"] for e in p.events()}


def test_a_password_is_rehashed_when_the_hashing_parameters_change(p, monkeypatch):
    monkeypatch.setattr(auth, "hasher", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    auth.login(p, "selin", PASSWORD)
    stored = p.user("selin")["password_hash"]
    assert "m=16,t=2" in stored
    assert auth.login(p, "selin", PASSWORD).user == "selin"


@pytest.mark.parametrize("name, password, message", [
    ("maria", "kurz", "the password has 4 characters; it needs at least 10"),
    ("mariamaria", "MariaMaria", "the password must not be the user name"),
])
def test_password_rules_say_what_to_do(p, name, password, message):
    with pytest.raises(WeakPasswordError, match=message):
        auth.create_account(p, name, "coder", password, by="admin")
    assert p.user(name) is None


def test_adding_an_existing_user_is_refused_clearly(p):
    with pytest.raises(StoreError, match="already a user 'selin'"):
        auth.create_account(p, "selin", "coder", "another long password", by="admin")
    with pytest.raises(StoreError, match="unknown role 'boss'"):
        auth.create_account(p, "maria", "boss", "another long password", by="admin")
    assert p.user("selin")["role"] == "lead"


@pytest.mark.parametrize("role, allowed", [
    ("coder", {"code", "import", "edit_attributes"}),
    ("lead", {"code", "import", "edit_attributes", "edit_codebook"}),
    ("admin", {"code", "import", "edit_attributes", "edit_codebook", "manage_users"}),
    ("nobody", set()),
])
def test_role_permissions(role, allowed):
    assert {action for action in auth.ACTIONS if auth.can(role, action)} == allowed


def test_an_unknown_action_is_a_bug_not_a_silent_no():
    with pytest.raises(ValueError, match="unknown action 'edit_codebok'"):
        auth.can("admin", "edit_codebok")


def test_every_role_is_known_to_the_store():
    assert set(auth.PERMISSIONS) == set(auth.ROLES)


def test_a_user_changes_their_own_password_only_with_the_current_one(tmp_path):
    from coding.auth import change_password, create_account, login, password_change_required, require_password_change
    from coding.errors import LoginFailed
    from coding.store import Project

    with Project.create(tmp_path / "own.db") as project:
        create_account(project, "alice", "coder", "erstes-passwort-1", "admin")
        require_password_change(project, "alice")
        with pytest.raises(LoginFailed, match="current password is wrong"):
            change_password(project, "alice", "falsch-falsch-1", "neues-passwort-22")
        change_password(project, "alice", "erstes-passwort-1", "neues-passwort-22")
        assert not password_change_required(project, "alice")
        assert login(project, "alice", "neues-passwort-22").user == "alice"
        with pytest.raises(LoginFailed):
            login(project, "alice", "erstes-passwort-1")
