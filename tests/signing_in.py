"""Signing in through the real forms, as a browser does, and reading back what was logged."""

import re
import time
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.audit.models import LogEntry
from tests.factories import PASSWORD, totp_secret_of
from tests.fixtures.markup import first_group

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: Any) -> str:
    match = _CSRF.search(response.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def code_for(user: User, steps_ahead: int = 0) -> str:
    """The TOTP code of the current time step, or of a later one (still inside the window)."""
    return pyotp.TOTP(totp_secret_of(user)).at(time.time() + 30 * steps_ahead)


def submit_password(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )


def submit_code(client: TestClient, code: str, path: str = "/sign-in/second-factor") -> Any:
    page = client.get(path)
    return client.post(
        path, data={"code": code, "csrf_token": csrf_of(page)}, follow_redirects=False
    )


def sign_in_for_real(client: TestClient, user: User, code: str | None = None) -> Any:
    response = submit_password(client, user.email)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/sign-in/second-factor"
    return submit_code(client, code or code_for(user))


def sign_in_as_demo_account(client: TestClient, account: Any) -> None:
    """Signs in a `hub demo` account (hub.demo.program.DemoAccount) with its password and a
    code from its TOTP secret, from a clean cookie jar, and checks it reached the home page."""
    client.cookies.clear()
    response = submit_password(client, account.email, account.password)
    assert response.headers.get("location") == "/sign-in/second-factor", account.email
    response = submit_code(client, pyotp.TOTP(account.totp_secret).now())
    assert response.status_code == 303 and response.headers["location"] == "/", account.email


def sign_out(client: TestClient) -> Any:
    page = client.get("/account")
    return client.post("/sign-out", data={"csrf_token": csrf_of(page)}, follow_redirects=False)


def logged(db: Session, tag: Any, **detail: Any) -> list[LogEntry]:
    """Security entries with this tag (and these detail values), committed so far."""
    entries = db.exec(
        select(LogEntry).where(col(LogEntry.tag) == tag.value).order_by(col(LogEntry.seq))
    ).all()
    db.commit()  # SQLite: release the read transaction before the app writes again
    return [
        e
        for e in entries
        if e.kind == "security" and all((e.detail or {}).get(k) == v for k, v in detail.items())
    ]


def fresh(db: Session, row: Any) -> Any:
    db.refresh(row)
    db.commit()
    return row


_LINK = re.compile(r"(/sign-in/welcome/[A-Za-z0-9_-]+)")
_SETUP_KEY = re.compile(r'aria-label="Setup key">([A-Z2-7 ]+)<')


def link_in(response: Any) -> str:
    """The path of the one-time enrolment link a page (or command) showed."""
    match = _LINK.search(response if isinstance(response, str) else response.text)
    assert match, "no enrolment link shown"
    return match.group(1)


def enrol_through_link(client: TestClient, path: str, password: str = PASSWORD) -> Any:
    """Opens an enrolment link as the new person does, sets the password and confirms the
    authenticator it shows. Returns the response and the TOTP secret."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    secret = first_group(_SETUP_KEY, page.text).replace(" ", "")
    response = client.post(
        path,
        data={
            "new_password": password,
            "new_password_again": password,
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_of(page),
        },
        follow_redirects=False,
    )
    return response, secret
