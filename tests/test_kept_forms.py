"""Nothing typed is lost (issue 17): a form sent after the idle sign-out is kept, sealed, for
its author alone, and offered back after sign-in; the polls leave the page alone; a forged or
signed-out form keeps nothing."""

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import col, select, update

from hub.accounts.models import KeptForm, UserSession
from hub.clients.models import CaseNote
from hub.db import utcnow
from hub.settings import get_settings
from hub.vocabulary import AssignmentKind, Category, Role, SecurityEventTag
from tests.signing_in import logged

NOTE = "Met at the day centre; wants help with the housing application on Thursday."


def _idle_out(db, signed_in):
    """Moves the session's last activity back past the idle limit (CJIS AC-11)."""
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    db.exec(
        update(UserSession)
        .where(col(UserSession.csrf_token) == signed_in.csrf_token)
        .values(last_seen_at=utcnow() - idle - timedelta(seconds=1))
    )
    db.commit()


def _case_manager_with_a_client(sign_in, factories):
    me = sign_in(Role.case_manager)
    person = factories.Person()
    factories.ClientAssignment(
        person_id=person.id, user_id=me.user.id, kind=AssignmentKind.caseload
    )
    return me, person


def _note_form(me, body=NOTE):
    return {"csrf_token": me.csrf_token, "category": Category.housing.value, "body": body}


def _kept(db):
    rows = list(db.exec(select(KeptForm).order_by(col(KeptForm.id))))
    db.commit()
    return rows


def test_a_note_sent_after_the_idle_sign_out_is_kept_and_sent_again(db, sign_in, factories):
    me, person = _case_manager_with_a_client(sign_in, factories)
    _idle_out(db, me)
    response = me.client.post(
        f"/clients/{person.id}/notes", data=_note_form(me), follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?kept=1"
    assert db.exec(select(CaseNote)).all() == []
    (kept,) = _kept(db)
    assert kept.user_id == me.user.id and kept.path == f"/clients/{person.id}/notes"
    # Sealed at rest; the log says a form was kept, never what it said.
    raw = db.execute(text("SELECT fields FROM kept_form")).scalar_one()
    db.commit()
    assert NOTE not in raw and "housing" not in raw
    (entry,) = logged(db, SecurityEventTag.form_kept)
    assert entry.actor_user_id == me.user.id and NOTE not in str(entry.detail)
    assert "kept for 24 hours" in me.client.get("/sign-in?kept=1").text

    again = sign_in(user=me.user)  # a new session, a new CSRF token
    client, csrf = again.client, again.csrf_token
    home = client.get("/")
    assert f'href="/kept-forms/{kept.id}"' in home.text and NOTE not in home.text
    page = client.get(f"/kept-forms/{kept.id}")
    assert page.status_code == 200 and NOTE in page.text
    sent = client.post(
        f"/kept-forms/{kept.id}/send",
        data={"csrf_token": csrf, "category": "housing", "body": NOTE},
        follow_redirects=True,
    )
    assert sent.status_code == 200
    (note,) = db.exec(select(CaseNote)).all()
    db.commit()
    assert note.body == NOTE and note.person_id == person.id
    # Sent: no longer offered.
    assert f"/kept-forms/{kept.id}" not in client.get("/").text
    assert client.get(f"/kept-forms/{kept.id}").status_code == 404


def test_only_its_author_opens_a_kept_form(db, sign_in, factories):
    me, person = _case_manager_with_a_client(sign_in, factories)
    _idle_out(db, me)
    me.client.post(f"/clients/{person.id}/notes", data=_note_form(me), follow_redirects=False)
    (kept,) = _kept(db)
    colleague = sign_in(Role.case_manager)
    assert colleague.client.get(f"/kept-forms/{kept.id}").status_code == 404
    discard = colleague.client.post(
        f"/kept-forms/{kept.id}/discard", data={"csrf_token": colleague.csrf_token}
    )
    assert discard.status_code == 404 and len(_kept(db)) == 1


def test_a_form_without_the_sessions_token_keeps_nothing(db, sign_in, factories):
    me, person = _case_manager_with_a_client(sign_in, factories)
    _idle_out(db, me)
    forged = {**_note_form(me), "csrf_token": "not-the-token"}
    response = me.client.post(f"/clients/{person.id}/notes", data=forged, follow_redirects=False)
    assert response.status_code == 403 and _kept(db) == []


def test_after_signing_out_nothing_is_kept(db, sign_in, factories):
    me, person = _case_manager_with_a_client(sign_in, factories)
    assert me.client.post("/sign-out", data={"csrf_token": me.csrf_token}).status_code in (200, 303)
    response = me.client.post(
        f"/clients/{person.id}/notes", data=_note_form(me), follow_redirects=False
    )
    assert response.status_code == 403 and _kept(db) == []


def test_a_kept_form_is_offered_for_24_hours_only(db, sign_in, factories):
    me, person = _case_manager_with_a_client(sign_in, factories)
    _idle_out(db, me)
    me.client.post(f"/clients/{person.id}/notes", data=_note_form(me), follow_redirects=False)
    (kept,) = _kept(db)
    db.exec(update(KeptForm).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    client = sign_in(user=me.user).client
    assert client.get(f"/kept-forms/{kept.id}").status_code == 404
    assert "/kept-forms/" not in client.get("/").text


def test_htmx_and_the_polls_after_the_idle_sign_out(db, sign_in, factories):
    me, person = _case_manager_with_a_client(sign_in, factories)
    _idle_out(db, me)
    # A poll the page makes by itself stops quietly (286) and leaves the page as it is.
    badge = me.client.get("/notifications/badge", headers={"HX-Request": "true"})
    assert badge.status_code == 286 and "HX-Redirect" not in badge.headers
    # A note sent from the page through htmx is kept, and htmx goes to sign-in.
    response = me.client.post(
        f"/clients/{person.id}/notes",
        data={"category": "housing", "body": NOTE},
        headers={"HX-Request": "true", "X-CSRF-Token": me.csrf_token},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sign-in?kept=1"
    assert len(_kept(db)) == 1


def test_staying_signed_in_restarts_the_idle_clock(db, sign_in):
    me = sign_in(Role.officer)
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    db.exec(
        update(UserSession)
        .where(col(UserSession.csrf_token) == me.csrf_token)
        .values(last_seen_at=utcnow() - idle + timedelta(minutes=2))
    )
    db.commit()
    stay = me.client.post("/account/stay", headers={"X-CSRF-Token": me.csrf_token})
    assert stay.status_code == 204
    record = db.exec(select(UserSession).where(UserSession.csrf_token == me.csrf_token)).one()
    db.commit()
    assert utcnow() - record.last_seen_at < timedelta(minutes=1)
