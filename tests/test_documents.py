"""Documents attached to a client or a consent (issue 14, item 7): the bytes decide the type
(a PDF named .png, a PNG named .pdf, an HTML page dressed as a PNG), the size is refused as it
arrives, the content is sealed at rest, a download is an attachment that cannot run, and each
download is a logged disclosure under the document's category. Both databases."""

import base64
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from hub.audit.models import LogEntry
from hub.clients.models import ClientAssignment
from hub.documents.models import ClientDocument
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    Category,
    ConsentKind,
    DisclosureTag,
    Role,
    SecurityEventTag,
)
from tests.audit_support import detail_of
from tests.factories import ConsentFactory

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
HTML = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def world(db: Session, factories: SimpleNamespace, sign_in):
    make = factories.Agency
    housing = make(name="Harbor Housing Services", kind=AgencyKind.case_management)
    treatment = make(
        name="Evergreen Harm Reduction", kind=AgencyKind.case_management, part2_program=True
    )
    police = make(name="Metro Police", kind=AgencyKind.police)
    prosecution = make(name="County Prosecutor", kind=AgencyKind.prosecution)
    users = {
        "cm": factories.User(role=Role.case_manager, agency=housing),
        "p2_cm": factories.User(role=Role.case_manager, agency=treatment),
        "officer": factories.User(role=Role.officer, agency=police),
        "prosecutor": factories.User(role=Role.prosecutor, agency=prosecution),
    }
    person = factories.Person()
    factories.Referral(
        person_id=person.id,
        referring_user=users["officer"],
        case_management_agency_id=housing.id,
        forwarded_to_agency_id=prosecution.id,
    )
    for name in ("cm", "p2_cm"):
        db.add(
            ClientAssignment(
                person_id=person.id, user_id=users[name].id, kind=AssignmentKind.caseload
            )
        )
    general = ConsentFactory.build(
        person_id=person.id,
        kind=ConsentKind.general,
        categories=[c.value for c in Category],
        purposes=["charging_decision", "referral"],
        recipient_agency_id=prosecution.id,
        discloser_agency_id=housing.id,
        created_by_id=users["cm"].id,
    )
    db.add(general)
    db.commit()
    return SimpleNamespace(
        db=db,
        person=person,
        users=users,
        consent=general,
        url=f"/clients/{person.id}/documents",
        sign_in=lambda name: sign_in(user=users[name]),
    )


def _attach(signed, url, content, name="file.bin", **fields):
    data = {"csrf_token": signed.csrf_token, **fields}
    return signed.client.post(
        url,
        data=data,
        files={"document": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def _documents(db: Session) -> list[ClientDocument]:
    found = db.exec(select(ClientDocument).order_by(col(ClientDocument.id))).all()
    db.commit()
    return list(found)


def _entries(db: Session, tag: str) -> list[LogEntry]:
    found = db.exec(select(LogEntry).where(LogEntry.tag == tag).order_by(col(LogEntry.seq))).all()
    db.commit()
    return list(found)


def test_the_bytes_decide_the_type_and_a_download_is_an_attachment_that_is_logged(world):
    cm = world.sign_in("cm")
    # A PNG named .pdf is kept and served as the PNG it is.
    response = _attach(cm, world.url, PNG, "release.pdf", kind="id_document")
    assert response.status_code == 303, response.text
    (document,) = _documents(world.db)
    assert (document.media_type, document.category, document.size_bytes) == (
        "image/png",
        Category.identity,
        len(PNG),
    )
    # Sealed at rest: the stored column is not the file nor its base64.
    raw = world.db.exec(
        text("SELECT content FROM client_document WHERE id = :id").bindparams(id=document.id)
    ).one()[0]
    world.db.commit()
    assert base64.b64encode(PNG).decode() not in raw and "PNG" not in raw
    download = cm.client.get(f"{world.url}/{document.id}")
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="document-{document.id}.png"'
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"].startswith("sandbox")
    read = _entries(world.db, DisclosureTag.document_read.value)[-1]
    assert read.kind == "disclosure" and read.person_id == world.person.id
    assert read.categories == [Category.identity.value]
    assert detail_of(read)["document_id"] == document.id
    attached = _entries(world.db, SecurityEventTag.document_attached.value)
    assert [detail_of(e)["document_id"] for e in attached] == [document.id]


def test_html_dressed_as_a_png_and_other_files_are_refused_with_every_error(world):
    cm = world.sign_in("cm")
    response = _attach(cm, world.url, HTML, "photo.png", kind="passport")
    assert response.status_code == 422
    assert 'data-field-error="document"' in response.text
    assert 'data-field-error="kind"' in response.text
    assert "<script>alert" not in response.text
    signed_release = _attach(cm, world.url, PDF, "release.pdf", kind="signed_release")
    assert signed_release.status_code == 422
    assert 'data-field-error="consent_id"' in signed_release.text
    assert _documents(world.db) == []


def test_a_file_past_the_limit_is_refused_as_it_arrives(world, settings_env):
    settings_env(document_max_bytes=2048)
    cm = world.sign_in("cm")
    # Past the limit and the form around it: refused before the body is read in full (413).
    huge = _attach(cm, world.url, PDF + b"0" * (80 * 1024), kind="id_document")
    assert huge.status_code == 413
    # Past the limit but within the form's allowance: refused while the file is read (422).
    large = _attach(cm, world.url, PDF + b"0" * 4096, kind="id_document")
    assert large.status_code == 422
    assert 'data-field-error="document"' in large.text
    small = _attach(cm, world.url, PDF[:1024], kind="id_document")
    assert small.status_code == 303
    assert len(_documents(world.db)) == 1


def test_a_signed_part2_release_is_treatment_and_never_reaches_the_prosecutor(world, factories):
    part2 = ConsentFactory.build(
        person_id=world.person.id,
        kind=ConsentKind.part2,
        categories=[Category.treatment.value],
        purposes=["case_management"],
        recipient_agency_id=world.users["cm"].agency_id,
        discloser_agency_id=world.users["p2_cm"].agency_id,
        created_by_id=world.users["p2_cm"].id,
    )
    world.db.add(part2)
    world.db.commit()
    # Only a Part 2 program's staff keep treatment data: the housing case manager may not.
    cm = world.sign_in("cm")
    refused = _attach(cm, world.url, PDF, kind="signed_release", consent_id=str(part2.id))
    assert refused.status_code == 403
    p2 = world.sign_in("p2_cm")
    kept = _attach(p2, world.url, PDF, kind="signed_release", consent_id=str(part2.id))
    assert kept.status_code == 303, kept.text
    id_card = _attach(cm, world.url, JPEG, kind="id_document")
    assert id_card.status_code == 303
    release, card = _documents(world.db)
    assert (release.category, release.consent_id) == (Category.treatment, part2.id)
    prosecutor = world.sign_in("prosecutor")
    listing = prosecutor.client.get(world.url)
    assert listing.status_code == 200
    assert f"Document {card.id}" in listing.text and f"Document {release.id}" not in listing.text
    assert prosecutor.client.get(f"{world.url}/{release.id}").status_code == 404
    withheld = _entries(world.db, DisclosureTag.document_read.value)[-1]
    assert withheld.outcome == "withheld" and withheld.categories == []
    assert p2.client.get(f"{world.url}/{release.id}").status_code == 200
    read = _entries(world.db, DisclosureTag.document_read.value)[-1]
    assert Category.treatment.value in read.categories
