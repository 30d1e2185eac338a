"""All configuration, from environment variables prefixed HUB_ (see README, Configuration)."""

import ipaddress
import json
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.audit.notes import COSIGNATURE_V1, NoteError, Verifier

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The hub refuses to start without these; other secrets (HUB_SMTP_PASSWORD) are optional.
REQUIRED_SECRETS = ("secret_key", "data_keys", "log_signing_key")


class Settings(BaseSettings):
    # hide_input_in_errors: a validation error would otherwise print every secret it was given.
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", hide_input_in_errors=True)

    database_url: str = Field(
        default="sqlite:///hub.db",
        description="SQLAlchemy URL. SQLite file in the working directory by default; "
        "postgresql+psycopg://... in production.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs CSRF tokens and derives per-install salts. Required."
    )
    data_keys: SecretStr | None = Field(
        default=None,
        description="Keys for encryption at rest: 'id:base64key,id:base64key' (32-byte keys). "
        "The first encrypts; all decrypt, so a rotation adds a new key in front.",
    )
    log_signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (base64 of the 32-byte seed) that signs log checkpoints. "
        "To rotate it, put the new seed in front, comma-separated, and run `hub audit "
        "rotate-signing-key` (deploy/README.md, Rotating keys); the first one signs.",
    )
    log_origin: str = Field(
        default="diversion-hub.example/log",
        description="The checkpoint origin line: names this hub's log to verifiers.",
    )
    checkpoint_interval_seconds: float = Field(default=10.0, ge=1)
    flags_interval_seconds: float = Field(
        default=60.0,
        ge=1,
        description="How often the hub computes the privacy console's review flags itself.",
    )
    checkpoint_push_dir: Path | None = Field(
        default=None, description="A directory outside the database that receives each checkpoint."
    )
    checkpoint_push_url: str | None = Field(
        default=None, description="An HTTP endpoint that receives each checkpoint (POST)."
    )
    witnesses: str | None = Field(
        default=None,
        description="Witnesses that cosign each checkpoint (c2sp.org/tlog-witness), a JSON list: "
        '[{"url": "https://w.example/", "key": "<`hub witness pubkey`>"}]. Unset: none.',
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port: tells every process of a policy release at once "
        "(hub.disclosure.watcher). Optional: without it, or while Redis is down, each process "
        "finds a release by its once-a-second version check.",
    )

    concurrent_requests: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Requests one worker process works on at once; later ones wait their turn "
        "(hub.web.admission). Measured in docs/load-test.md.",
    )

    trusted_proxies: str | None = Field(
        default=None,
        description="Addresses or networks of the reverse proxy, comma-separated "
        "(127.0.0.1, 10.0.0.0/24). Only a request from one of them may name the client's address "
        "(X-Forwarded-For) and scheme (X-Forwarded-Proto); from anyone else both are ignored, so "
        "sign-in limits and the log count real addresses. Unset: no proxy is trusted.",
    )

    # Sessions (CJIS AC-11, AC-12; ASVS V7)
    session_idle_minutes: int = Field(default=30, ge=1, le=30)
    session_absolute_hours: int = Field(default=12, ge=1, le=24)
    cookie_secure: bool = Field(
        default=True,
        description="Secure, __Host- prefixed cookies. Turn off only for plain-HTTP localhost.",
    )

    # Sign-in limits (CJIS AC-7 and a guard against password spraying)
    lockout_failures: int = Field(default=5, ge=1)
    lockout_window_minutes: int = Field(default=15, ge=1)
    address_attempts_per_window: int = Field(default=30, ge=1)
    inactive_account_days: int = Field(default=90, ge=1)

    # The program's own rules
    intake_deadline_days: int = Field(default=30, ge=1, le=365)
    deadline_near_days: int = Field(default=7, ge=0)
    officer_sees_participation: bool = Field(
        default=False,
        description="Whether officers may learn that a person they did not refer is a participant. "
        "Off by default: participation in a treatment program is itself protected.",
    )
    break_glass_minutes: int = Field(default=60, ge=5, le=24 * 60)
    retention_years: int = Field(default=6, ge=6)
    court_order_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=50 * 1024 * 1024,
        description="Largest court order copy (PDF) a privacy officer may upload.",
    )
    api_client_token_minutes: int = Field(
        default=15,
        ge=1,
        le=60,
        description="How long a bearer token issued to an agency system's OAuth 2 client "
        "(POST /oauth/token) lasts.",
    )
    document_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=50 * 1024 * 1024,
        description="Largest document (PDF, PNG or JPEG) attached to a client or a consent; "
        "a larger upload is refused as it arrives, before it is read in full.",
    )

    # E-mail (hub.mail): notifications, invitations and security alerts, never personal data
    smtp_host: str | None = Field(
        default=None,
        description="The mail server that `hub mail send` delivers through. Unset: mail waits "
        "in the outbox and nothing is sent.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="The mail server's port.")
    smtp_username: str | None = Field(
        default=None, description="Account on the mail server; unset: no login."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password of HUB_SMTP_USERNAME on the mail server."
    )
    smtp_starttls: bool = Field(
        default=True,
        description="Upgrade the connection with STARTTLS (and verify the server's certificate) "
        "before logging in or sending. Turn off only for a relay on the same host.",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the mail server's certificate, when it is a "
        "private one; unset: the system's trusted CAs.",
    )
    mail_from: str = Field(
        default="Diversion Hub <hub@diversion-hub.example>",
        description="The From address of every mail the hub sends.",
    )
    public_url: str = Field(
        default="https://diversion-hub.example",
        description="The hub's address as users reach it (https://...): the links in mail.",
    )
    mail_digest_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="Hour of the day, on the site's clock, at which daily digests go out.",
    )
    court_reminder_days: int = Field(
        default=2,
        ge=0,
        le=30,
        description="Days before a court date from which `hub calendar remind` tells the "
        "matter's prosecutors and the client's defender.",
    )
    # Issue 16: the site's own unit costs, for the equity dashboard's cost table.
    cost_jail_day: float = Field(
        default=0.0,
        ge=0,
        le=100_000,
        description="The site's cost of one jail day, in its currency (cost table; 0: unknown).",
    )
    cost_booking: float = Field(
        default=0.0,
        ge=0,
        le=100_000,
        description="The site's cost of one jail booking (the cost table; 0: not known).",
    )
    cost_case_management_month: float = Field(
        default=0.0,
        ge=0,
        le=100_000,
        description="The site's cost of a month of case management for one client (0: unknown).",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str | None) -> str | None:
        # No "*" and no host names: trusting anyone would let a client choose its own address.
        for item in _comma_list(value or ""):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/24)"
                ) from None
        return value

    @field_validator("witnesses")
    @classmethod
    def _witnesses_are_listed(cls, value: str | None) -> str | None:
        # Checked at start-up, so a typo does not silently leave the log unwitnessed.
        witness_list(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_web_address(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("HUB_PUBLIC_URL must start with https:// (or http:// on localhost)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_missing_secrets(self) -> "Settings":
        missing = [name for name in REQUIRED_SECRETS if getattr(self, name) is None]
        if missing:
            names = ", ".join(f"HUB_{n.upper()}" for n in missing)
            raise ValueError(
                f"{names} must be set in the environment (`hub keys generate` prints a set); "
                "`hub demo` generates its own into hub-demo.env."
            )
        return self

    @property
    def session_cookie_name(self) -> str:
        # __Host- binds the cookie to this origin over HTTPS with Path=/ (ASVS V3.3)
        return "__Host-hub_session" if self.cookie_secure else "hub_session"

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _comma_list(self.trusted_proxies or "")

    @property
    def witness_list(self) -> list[tuple[str, str]]:
        return witness_list(self.witnesses)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def witness_list(value: str | None) -> list[tuple[str, str]]:
    """(url, verifier key) of each witness in HUB_WITNESSES; ValueError if malformed."""
    if not value:
        return []
    try:
        items = json.loads(value)
    except ValueError:
        raise ValueError("is not JSON") from None
    if not isinstance(items, list):
        raise ValueError("is a JSON list of witnesses")
    witnesses = []
    for item in items:
        if (
            not isinstance(item, dict)
            or set(item) != {"url", "key"}
            or not all(isinstance(v, str) for v in item.values())
        ):
            raise ValueError('lists objects {"url": ..., "key": ...}')
        if not item["url"].startswith(("https://", "http://")):
            raise ValueError("a witness's url is http(s)")
        try:
            Verifier.parse(item["key"], COSIGNATURE_V1)
        except NoteError as exc:
            raise ValueError(f"a witness's key: {exc}") from None
        witnesses.append((item["url"], item["key"]))
    return witnesses


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
