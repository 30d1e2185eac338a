"""Issue 15, item 4: the defender office appoints one of its defenders to a client (by the
matter's offense tracking number) and ends the appointment; a court's appointment records
are imported as CSV whole or not at all, every bad line named with its reason."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import col, func, select

from hub.audit.models import LogEntry
from hub.clients.models import ClientAssignment
from hub.db import ident
from hub.defense.appointments import (
    AppointmentImport,
    AppointmentRefused,
    appoint_defender,
    end_appointment,
    import_appointments,
)
from hub.vocabulary import AgencyKind, AssignmentKind, ImportMode, Role, SecurityEventTag
from tests.signing_in import logged

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


@pytest.fixture
def office(world):
    world.add_user("defense_admin", Role.defender_supervisor, "defense")
    world.add_user("defender2", Role.defender, "defense")
    world.agencies["other_defense"] = world.factories.Agency(
        name="Conflict Counsel", kind=AgencyKind.defense
    )
    world.add_user("outside_defender", Role.defender, "other_defense")
    matters = [world.arrest(now=NOW - timedelta(days=d))[1] for d in (1, 2, 3)]
    return matters


def defense_assignments(db):
    rows = db.exec(
        select(ClientAssignment)
        .where(ClientAssignment.kind == AssignmentKind.defense)
        .order_by(col(ClientAssignment.id))
    ).all()
    db.commit()
    return rows


def test_the_office_appoints_and_ends_an_appointment(world, office):
    admin = world.viewer("defense_admin")
    email = world.users["defender"].email
    made = appoint_defender(
        world.db, admin, office[0].offense_tracking_number, email, world.actor("defense_admin")
    )
    assert (made.person_id, made.user_id) == (office[0].person_id, world.users["defender"].id)
    with pytest.raises(AppointmentRefused, match="already appointed"):
        appoint_defender(
            world.db, admin, office[0].offense_tracking_number, email, world.actor("defense_admin")
        )
    with pytest.raises(AppointmentRefused) as refused:
        appoint_defender(
            world.db,
            admin,
            "OTN-NONE",
            world.users["outside_defender"].email,
            world.actor("defense_admin"),
        )
    assert [f for f, _ in refused.value.problems] == ["offense_tracking_number", "defender_email"]
    ended = end_appointment(world.db, admin, ident(made.id), world.actor("defense_admin"))
    assert ended.ended_at is not None
    assert logged(world.db, SecurityEventTag.defender_appointed)
    assert logged(world.db, SecurityEventTag.defender_appointment_ended)
    with pytest.raises(AppointmentRefused):
        end_appointment(world.db, admin, ident(made.id), world.actor("defense_admin"))


def test_only_a_defender_office_appoints(world, office):
    world.add_user("police_sergeant", Role.sergeant, "police")
    with pytest.raises(AppointmentRefused, match="only a defender office"):
        appoint_defender(
            world.db,
            world.viewer("police_sergeant"),
            office[0].offense_tracking_number,
            world.users["defender"].email,
            world.actor("police_sergeant"),
        )


def csv_of(*rows):
    return "offense_tracking_number,defender_email,appointed_on\n" + "".join(
        ",".join(r) + "\n" for r in rows
    )


def test_a_good_file_is_imported_whole(world, office):
    text = csv_of(
        (office[0].offense_tracking_number, world.users["defender"].email, "2026-12-01"),
        (office[1].offense_tracking_number, world.users["defender2"].email, "2026-11-20"),
    )
    made = import_appointments(
        world.db, world.viewer("defense_admin"), text, world.actor("defense_admin"), now=NOW
    )
    assert made == AppointmentImport(made=2, refused=[])
    assert [
        (a.person_id, a.started_at.date().isoformat()) for a in defense_assignments(world.db)
    ] == [
        (office[0].person_id, "2026-12-01"),
        (office[1].person_id, "2026-11-20"),
    ]
    assert logged(world.db, SecurityEventTag.defender_appointments_imported)


def test_one_bad_line_refuses_the_file_and_every_bad_line_is_named(world, office):
    log_before = world.db.exec(select(func.count()).select_from(LogEntry)).one()
    good = (office[0].offense_tracking_number, world.users["defender"].email, "2026-12-01")
    text = csv_of(
        good,
        ("OTN-NOPE", world.users["defender"].email, "2026-12-01"),
        (office[1].offense_tracking_number, world.users["outside_defender"].email, "2026-12-01"),
        (office[2].offense_tracking_number, world.users["defender"].email, "2027-01-01"),
        (office[2].offense_tracking_number, world.users["defender"].email, "2020-01-01"),
        ("too", "few"),
        good,
    )
    with pytest.raises(AppointmentRefused) as refused:
        import_appointments(
            world.db, world.viewer("defense_admin"), text, world.actor("defense_admin"), now=NOW
        )
    world.db.rollback()
    lines = dict(refused.value.problems)
    assert sorted(lines) == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "no matter has this number" in lines["line 3"]
    assert "not an active defender of your office" in lines["line 4"]
    assert "in the future" in lines["line 5"]
    assert "more than two years back" in lines["line 6"]
    assert "expected 3 columns" in lines["line 7"]
    assert "already appointed" in lines["line 8"]  # the same appointment twice in one file
    assert defense_assignments(world.db) == []
    assert world.db.exec(select(func.count()).select_from(LogEntry)).one() == log_before
    with pytest.raises(AppointmentRefused, match="line 1: the header must be"):
        import_appointments(
            world.db, world.viewer("defense_admin"), "otn,email\n", world.actor("defense_admin")
        )


def test_valid_rows_go_in_together_and_each_bad_line_is_reported(world, office):
    text = csv_of(
        (office[0].offense_tracking_number, world.users["defender"].email, "2026-12-01"),
        ("OTN-NOPE", world.users["defender"].email, "2026-12-01"),
        (office[1].offense_tracking_number, world.users["defender2"].email, "2031-01-01"),
        (office[2].offense_tracking_number, world.users["defender2"].email, "2026-11-30"),
    )
    done = import_appointments(
        world.db,
        world.viewer("defense_admin"),
        text,
        world.actor("defense_admin"),
        ImportMode.valid_rows,
        now=NOW,
    )
    assert done.made == 2
    lines = dict(done.refused)
    assert sorted(lines) == ["line 3", "line 4"]
    assert "no matter has this number" in lines["line 3"]
    assert "appointed_on: lies in the future" in lines["line 4"]
    assert [a.person_id for a in defense_assignments(world.db)] == [
        office[0].person_id,
        office[2].person_id,
    ]
    [event] = logged(world.db, SecurityEventTag.defender_appointments_imported)
    assert event.detail == {"appointments": 2, "mode": "valid_rows", "refused_lines": [3, 4]}


def test_a_file_of_only_bad_rows_imports_nothing_in_either_mode(world, office):
    text = csv_of(("OTN-NOPE", world.users["defender"].email, "1999-01-01"))
    for mode in ImportMode:
        with pytest.raises(AppointmentRefused) as refused:
            import_appointments(
                world.db,
                world.viewer("defense_admin"),
                text,
                world.actor("defense_admin"),
                mode,
                now=NOW,
            )
        world.db.rollback()
        [(line, reasons)] = refused.value.problems
        assert line == "line 2" and "more than two years back" in reasons
    assert defense_assignments(world.db) == []
    assert not logged(world.db, SecurityEventTag.defender_appointments_imported)


def test_the_import_page_reports_the_lines_it_left_out(world, office, sign_in):
    admin = sign_in(user=world.users["defense_admin"])
    text = csv_of(
        (office[0].offense_tracking_number, world.users["defender"].email, "2026-12-01"),
        (office[1].offense_tracking_number, world.users["outside_defender"].email, "2026-12-01"),
    )
    with mock.patch("hub.defense.appointments.utcnow", return_value=NOW):
        page = admin.post(
            "/defense/appointments/import",
            files={"file": ("a.csv", text.encode(), "text/csv")},
            data={"mode": "valid_rows"},
        )
        assert page.status_code == 200
        assert "1 appointment(s) imported in one transaction. 1 line(s) refused" in page.text
        assert "<td>3</td><td>defender_email: not an active defender" in page.text
        # The mode is the appointer's choice: no choice, no import.
        unchosen = admin.post(
            "/defense/appointments/import", files={"file": ("a.csv", text.encode(), "text/csv")}
        )
    assert unchosen.status_code == 422
    assert len(defense_assignments(world.db)) == 1


def test_the_pages_appoint_import_and_refuse(world, office, sign_in):
    admin = sign_in(user=world.users["defense_admin"])
    assert admin.client.get("/defense/appointments").status_code == 200
    made = admin.post(
        "/defense/appointments",
        data={
            "offense_tracking_number": office[0].offense_tracking_number,
            "defender_email": world.users["defender"].email,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    bad = csv_of(("OTN-NOPE", world.users["defender"].email, "2026-12-01"))
    with mock.patch("hub.defense.appointments.utcnow", return_value=NOW):
        refused = admin.post(
            "/defense/appointments/import",
            files={"file": ("a.csv", bad.encode(), "text/csv")},
            data={"mode": "all_or_nothing"},
        )
        assert refused.status_code == 422 and "line 2" in refused.text
        good = csv_of(
            (office[1].offense_tracking_number, world.users["defender2"].email, "2026-12-02")
        )
        imported = admin.post(
            "/defense/appointments/import",
            files={"file": ("a.csv", good.encode(), "text/csv")},
            data={"mode": "all_or_nothing"},
        )
    assert imported.status_code == 200 and "1 appointment(s) imported" in imported.text
    [first, second] = defense_assignments(world.db)
    ended = admin.post(f"/defense/appointments/{first.id}/end", follow_redirects=False)
    assert ended.status_code == 303
    # Another office's admin cannot end it: answered as none, and logged.
    world.add_user("other_admin", Role.defender_supervisor, "other_defense")
    outsider = sign_in(user=world.users["other_admin"])
    assert outsider.post(f"/defense/appointments/{second.id}/end").status_code == 404
    assert logged(world.db, SecurityEventTag.access_denied)
    defender = sign_in(user=world.users["defender"])
    assert defender.client.get("/defense/appointments").status_code == 403
