"""A client read's purpose comes from the role alone (hub/clients/purposes.py), and a role with
none reads nothing: the domain says so with its own error, and the web layer answers 403."""

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from hub.accounts.sessions import Viewer
from hub.clients.purposes import RECORD_PURPOSE, NoRecordPurpose, record_purpose
from hub.vocabulary import AgencyKind, Role


def viewer(role: Role) -> Viewer:
    return Viewer(
        user_id=1,
        role=role,
        agency_id=1,
        agency_kind=AgencyKind.program_office,
        display_name="A. Person",
    )


@pytest.mark.parametrize("role", [r for r in Role if r not in RECORD_PURPOSE])
def test_a_role_without_a_purpose_reads_nothing(role: Role) -> None:
    with pytest.raises(NoRecordPurpose):
        record_purpose(viewer(role))


def test_the_web_layer_answers_403_without_a_stack(app: FastAPI) -> None:
    def as_admin() -> Viewer:
        return viewer(Role.admin)

    @app.get("/test-only/record-purpose")
    def read(v: Viewer = Depends(as_admin)) -> str:
        return record_purpose(v).value

    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        answer = client.get("/test-only/record-purpose")
    assert answer.status_code == 403
    assert "Your role does not read client records." in answer.text
    assert "Traceback" not in answer.text
