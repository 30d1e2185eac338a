"""A client that goes away in the middle of its request (a closed tab, a load generator that
cut the connection) is not a server fault: the hub logs a disconnect at info level, no error
line, and changes nothing, since the form it would have acted on never arrived. Driven at the
ASGI level: the server's `receive` answers http.disconnect, as uvicorn does."""

import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import col, func, select

from hub.accounts.models import UserSession
from hub.audit.models import LogEntry
from hub.clients.models import CaseNote
from hub.settings import get_settings
from tests.event_loop import run_to_completion

FORM = "application/x-www-form-urlencoded"


def _post(app: Any, path: str, cookie: str, body: bytes, *, arrives: int) -> list[dict]:
    """POSTs `body` straight to the ASGI app; only its first `arrives` bytes reach the hub
    before the client disconnects (all of it: a complete request). Returns what the hub sent;
    an exception out of the app (what the server would log as an error) fails the test."""
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body[:arrives], "more_body": arrives < len(body)}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", FORM.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"{get_settings().session_cookie_name}={cookie}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }
    run_to_completion(app(scope, receive, send))
    return sent


def _status(sent: list[dict]) -> int | None:
    return next((m["status"] for m in sent if m["type"] == "http.response.start"), None)


def _count(db, column) -> int:
    value = db.exec(select(func.count(column))).one()
    db.commit()  # SQLite: release the read transaction before the app writes
    return value


def _assert_logged_as_a_disconnect(caplog, path):
    hub_records = [r for r in caplog.records if r.name.startswith("hub")]
    assert not [r for r in hub_records if r.levelno >= logging.WARNING], caplog.text
    assert "unhandled" not in caplog.text
    gone = [r for r in hub_records if "disconnect" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO
    assert f"POST {path}" in gone[0].getMessage()


@pytest.mark.parametrize("arrives", [0, 20])
def test_a_note_whose_form_never_arrived_is_not_written(app, db, program, sign_in, caplog, arrives):
    """The route takes form fields, so FastAPI reads the body before anything else runs."""
    me = sign_in(user=program.case_manager)
    cookie = me.client.cookies.get(get_settings().session_cookie_name)
    path = f"/clients/{program.person.id}/notes"
    body = urlencode(
        {"csrf_token": me.csrf_token, "category": "housing", "body": "Signed a lease on Pine St."}
    ).encode()
    notes, entries = _count(db, CaseNote.id), _count(db, LogEntry.seq)

    with caplog.at_level(logging.INFO):
        sent = _post(app, path, cookie, body, arrives=arrives)
    assert _status(sent) in (None, 400)
    _assert_logged_as_a_disconnect(caplog, path)
    assert _count(db, CaseNote.id) == notes
    assert _count(db, LogEntry.seq) == entries

    # The same request, all of it: the note is written (so the route really would write).
    assert _status(_post(app, path, cookie, body, arrives=len(body))) == 303
    assert _count(db, CaseNote.id) == notes + 1


@pytest.mark.parametrize("arrives", [0, 20])
def test_a_sign_out_whose_form_never_arrived_signs_nothing_out(
    app, db, program, sign_in, caplog, arrives
):
    """No form fields: the CSRF check is the first to read the form."""
    me = sign_in(user=program.case_manager)
    cookie = me.client.cookies.get(get_settings().session_cookie_name)
    body = urlencode({"csrf_token": me.csrf_token}).encode()
    entries = _count(db, LogEntry.seq)

    with caplog.at_level(logging.INFO):
        sent = _post(app, "/sign-out", cookie, body, arrives=arrives)
    assert _status(sent) in (None, 400)
    _assert_logged_as_a_disconnect(caplog, "/sign-out")
    assert _count(db, LogEntry.seq) == entries
    live = db.exec(
        select(UserSession).where(
            UserSession.user_id == program.case_manager.id, col(UserSession.ended_at).is_(None)
        )
    ).all()
    db.commit()
    assert len(live) == 1
    assert me.client.get("/account").status_code == 200

    assert _status(_post(app, "/sign-out", cookie, body, arrives=len(body))) == 303
    assert me.client.get("/account", follow_redirects=False).status_code == 303
