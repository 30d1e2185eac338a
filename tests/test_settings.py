"""Settings and secrets: the hub refuses to start without its secrets and says which are
missing without echoing any value; cookies are __Host- unless HTTPS is off; data keys parse
strictly; sealed columns hold ciphertext only."""

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import Session

from hub.clients.models import Person, PersonContact
from hub.crypto import KeyRing, KeyRingError, generate_environment, new_data_key
from hub.db import get_engine, ident
from hub.settings import Settings
from tests.conftest import run_hub

SECRETS = ["HUB_SECRET_KEY", "HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY"]


@pytest.fixture
def fresh_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = generate_environment()
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.mark.parametrize("name", SECRETS)
def test_settings_refuse_to_start_without_a_secret(name, fresh_secrets, monkeypatch):
    monkeypatch.delenv(name)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert name in message
    for other in set(SECRETS) - {name}:
        assert other not in message  # only the missing one is named
        assert fresh_secrets[other] not in message
        for piece in (fresh_secrets[other][:12], fresh_secrets[other][-12:]):
            assert piece not in message


def test_settings_name_every_missing_secret(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    for name in SECRETS:
        assert name in message


def test_a_malformed_setting_is_refused_without_echoing_it(fresh_secrets, monkeypatch):
    monkeypatch.setenv("HUB_SESSION_IDLE_MINUTES", "31")  # CJIS AC-11: at most 30 minutes
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "session_idle_minutes" in message
    for value in fresh_secrets.values():
        assert value not in message
        assert value[-12:] not in message


def test_the_cli_names_the_missing_secret_and_exits_non_zero(fresh_secrets, tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "HUB_SECRET_KEY"}
    environment["HUB_DATABASE_URL"] = f"sqlite:///{tmp_path / 'never.db'}"
    result = run_hub("migrate", environment=environment)
    assert result.returncode != 0
    assert "HUB_SECRET_KEY" in result.stderr
    for name in ("HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY"):
        assert fresh_secrets[name] not in result.stderr + result.stdout
        assert fresh_secrets[name][-12:] not in result.stderr + result.stdout
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize(
    ("secure", "cookie"), [("true", "__Host-hub_session"), ("false", "hub_session")]
)
def test_session_cookie_name(secure, cookie, fresh_secrets, monkeypatch):
    monkeypatch.setenv("HUB_COOKIE_SECURE", secure)
    assert Settings().session_cookie_name == cookie


def test_cookies_are_secure_by_default(fresh_secrets, monkeypatch):
    monkeypatch.delenv("HUB_COOKIE_SECURE", raising=False)
    assert Settings().cookie_secure is True
    assert Settings().session_cookie_name.startswith("__Host-")


# --- data keys ------------------------------------------------------------------------------

# Fixed keys: parameter ids must be the same in every xdist worker.
KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(32, 64))).decode()
SHORT_KEY = base64.b64encode(b"x" * 16).decode()


@pytest.mark.parametrize(
    ("text_", "problem"),
    [
        ("", "lists no key"),
        (" , ", "lists no key"),
        (KEY, "id:base64key"),
        (f"k-1:{KEY}", "alphanumeric id"),
        (f":{KEY}", "alphanumeric id"),
        ("k1:not*base64", "not valid base64"),
        (f"k1:{SHORT_KEY}", "not 32 bytes"),
        (f"k1:{KEY},k1:{OTHER_KEY}", "listed twice"),
    ],
)
def test_key_ring_parse_errors(text_, problem):
    with pytest.raises(KeyRingError, match=problem) as refused:
        KeyRing.parse(text_)
    assert KEY not in str(refused.value)
    assert SHORT_KEY not in str(refused.value)


def test_key_ring_rotation_opens_old_values_and_seals_with_the_new_key():
    old = KeyRing.parse(f"k1:{KEY}")
    sealed = old.seal("555-0100")
    rotated = KeyRing.parse(f"k2:{new_data_key()},k1:{KEY}")
    assert rotated.open(sealed) == "555-0100"
    assert not rotated.sealed_with_current(sealed)
    assert rotated.sealed_with_current(rotated.seal("555-0100"))
    with pytest.raises(KeyRingError, match="no data key k1"):
        KeyRing.parse(f"k2:{new_data_key()}").open(sealed)


def test_a_sealed_value_cannot_be_altered_or_moved():
    ring = KeyRing.parse(f"k1:{KEY}")
    sealed = ring.seal("555-0100", associated=b"person:1")
    with pytest.raises(InvalidTag):
        ring.open(sealed, associated=b"person:2")
    prefix, key_id, body = sealed.split(":", 2)
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        ring.open(f"{prefix}:{key_id}:{base64.b64encode(bytes(raw)).decode()}")


def test_encrypted_columns_store_ciphertext_only(db: Session):
    phone, staying_at = "206-555-0142", "Blue tent under the Aurora bridge"
    person = Person(first_name="Avery", last_name="Quinn")
    db.add(person)
    db.flush()
    db.add(PersonContact(person_id=ident(person.id), phone=phone, staying_at=staying_at))
    db.commit()

    with get_engine().connect() as connection:
        raw_phone, raw_place = connection.execute(
            text("SELECT phone, staying_at FROM person_contact WHERE person_id = :id"),
            {"id": person.id},
        ).one()
    for raw, plain in ((raw_phone, phone), (raw_place, staying_at)):
        assert raw.startswith("v1:k1:")
        assert plain not in raw
        assert "555" not in raw and "Aurora" not in raw
    assert raw_phone != KeyRing.parse(os.environ["HUB_DATA_KEYS"]).seal(phone)  # fresh nonce

    db.expunge_all()
    with Session(get_engine()) as fresh:
        contact = fresh.get(PersonContact, person.id)
        assert contact is not None
        assert (contact.phone, contact.staying_at) == (phone, staying_at)
