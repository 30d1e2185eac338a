"""`hub agencies oidc set|show|remove`: the operator sets an agency's OpenID provider, logged;
the secret is never an option, only the name of the variable that holds it."""

from sqlmodel import select
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.identity.models import IdentityProvider
from hub.vocabulary import AgencyKind, SecurityEventTag
from tests.signing_in import logged

runner = CliRunner()
AGENCY = "Salish County Prosecutor"


def hub(*args: str):
    return runner.invoke(cli, list(args))


def test_set_show_and_remove_a_provider(db, factories):
    factories.Agency(name=AGENCY, kind=AgencyKind.prosecution)
    result = hub(
        "agencies", "oidc", "set", AGENCY,
        "--name", "Salish ID",
        "--issuer", "https://id.salish.example",
        "--client-id", "diversion-hub",
        "--domain", "salish-prosecutor.example",
        "--domain", "Salish.example",
        "--trust-mfa",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "HUB_OIDC_SECRET_SALISH_COUNTY_PROSECUTOR" in result.output
    provider = db.exec(select(IdentityProvider)).one()
    db.commit()
    assert provider.allowed_domains == "salish-prosecutor.example,salish.example"
    assert provider.trust_mfa
    [entry] = logged(db, SecurityEventTag.identity_provider_changed, change="configured")
    assert entry.actor_role == "operator"

    shown = hub("agencies", "oidc", "show", AGENCY)
    assert "https://id.salish.example" in shown.output and "trust_mfa\tTrue" in shown.output

    assert hub("agencies", "oidc", "remove", AGENCY).exit_code == 0
    assert db.exec(select(IdentityProvider)).all() == []
    assert logged(db, SecurityEventTag.identity_provider_changed, change="removed")


def test_bad_settings_are_refused_all_at_once_and_change_nothing(db, factories):
    factories.Agency(name=AGENCY, kind=AgencyKind.prosecution)
    result = hub(
        "agencies", "oidc", "set", AGENCY,
        "--name", "Salish ID",
        "--issuer", "http://id.salish.example",
        "--client-id", "diversion-hub",
        "--domain", "not a domain",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "https://" in result.output and "e-mail domains" in result.output
    assert db.exec(select(IdentityProvider)).all() == []
    db.commit()  # on SQLite an open read holds the lock the command below would wait 30 s for
    unknown = hub("agencies", "oidc", "show", "No Such Agency")
    assert unknown.exit_code == 1 and "there is no agency named 'No Such Agency'" in unknown.output
