"""Which agencies sign in through their own OpenID provider, as the program office set it.

Changing a provider is a security event (CJIS AU-2): it decides who may open a session. The
client secret never reaches the database: each agency's lives in its own environment variable
(`HUB_OIDC_SECRET_<AGENCY>`), named here and read only when a code is exchanged.
"""

import os
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from hub.accounts.administration import Scope
from hub.accounts.models import Agency
from hub.accounts.rules import AccountError, agency_of, record
from hub.audit.log import Actor
from hub.db import utcnow
from hub.identity.models import IdentityProvider
from hub.identity.provider import check_issuer_address
from hub.vocabulary import SecurityEventTag

SECRET_PREFIX = "HUB_OIDC_SECRET_"  # noqa: S105 (the name of a variable, not a secret)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class ProviderSettings:
    """What the program office enters for an agency's provider."""

    name: str
    issuer: str
    client_id: str
    allowed_domains: list[str]
    trust_mfa: bool = False
    trusted_acr: str | None = None


@dataclass(frozen=True)
class SignInButton:
    """ "Sign in with <name>" on the sign-in page."""

    agency_id: int
    label: str


def secret_variable(agency: Agency) -> str:
    """The environment variable that holds this agency's client secret."""
    slug = re.sub(r"[^A-Z0-9]+", "_", agency.name.upper()).strip("_")[:60] or str(agency.id)
    return SECRET_PREFIX + slug


def client_secret(provider: IdentityProvider) -> str | None:
    return os.environ.get(provider.secret_variable) or None


def domains_of(provider: IdentityProvider) -> list[str]:
    return [d for d in provider.allowed_domains.split(",") if d]


def _checked(settings: ProviderSettings) -> ProviderSettings:
    errors: list[str] = []
    name = settings.name.strip()
    if not 1 <= len(name) <= 100:
        errors.append("Enter the provider's name (1 to 100 characters), e.g. 'Salish County ID'.")
    try:
        check_issuer_address(settings.issuer.strip())
    except ValueError as refused:
        errors.append(str(refused))
    client_id = settings.client_id.strip()
    if not 1 <= len(client_id) <= 200:
        errors.append("Enter the client id the provider gave the hub (1 to 200 characters).")
    domains = sorted({d.strip().lower() for d in settings.allowed_domains if d.strip()})
    if not domains or not all(_DOMAIN.match(d) for d in domains):
        errors.append("List the agency's e-mail domains, e.g. salish-prosecutor.example.")
    acr = (settings.trusted_acr or "").strip() or None
    if acr is not None and len(acr) > 200:
        errors.append("The trusted acr value may have at most 200 characters.")
    if errors:
        raise AccountError(" ".join(errors))
    return ProviderSettings(
        name=name,
        issuer=settings.issuer.strip(),
        client_id=client_id,
        allowed_domains=domains,
        trust_mfa=settings.trust_mfa,
        trusted_acr=acr,
    )


def provider_of(db: Session, agency_id: int) -> IdentityProvider | None:
    return db.exec(
        select(IdentityProvider).where(col(IdentityProvider.agency_id) == agency_id)
    ).first()


def configure_provider(
    db: Session, actor: Actor, scope: Scope, agency_id: int, settings: ProviderSettings
) -> IdentityProvider:
    """Sets (or replaces) an agency's OpenID provider. Only the program office or the operator
    configures providers: a provider decides who signs in. Logged; commits."""
    agency = agency_of(db, agency_id)
    if not scope.all_agencies:
        record(db, actor, SecurityEventTag.access_denied, "denied", action="configure_provider")
        db.commit()
        raise AccountError("Only the program office configures identity providers.")
    checked = _checked(settings)
    provider = provider_of(db, agency_id) or IdentityProvider(
        agency_id=agency_id,
        name="",
        issuer="",
        client_id="",
        secret_variable="",
        allowed_domains="",
    )
    provider.name = checked.name
    provider.issuer = checked.issuer
    provider.client_id = checked.client_id
    provider.secret_variable = secret_variable(agency)
    provider.allowed_domains = ",".join(checked.allowed_domains)
    provider.trust_mfa = checked.trust_mfa
    provider.trusted_acr = checked.trusted_acr
    provider.changed_at = utcnow()
    db.add(provider)
    db.flush()
    record(
        db,
        actor,
        SecurityEventTag.identity_provider_changed,
        agency_id=agency_id,
        change="configured",
        issuer=provider.issuer,
        client_id=provider.client_id,
        allowed_domains=checked.allowed_domains,
        trust_mfa=provider.trust_mfa,
        trusted_acr=provider.trusted_acr,
    )
    db.commit()
    return provider


def remove_provider(db: Session, actor: Actor, scope: Scope, agency_id: int) -> None:
    """Stops an agency's provider sign-in (its links stay, unused). Logged; commits."""
    provider = provider_of(db, agency_id)
    if provider is None or not scope.all_agencies:
        raise AccountError("That agency has no identity provider to remove.")
    db.delete(provider)
    record(
        db, actor, SecurityEventTag.identity_provider_changed, agency_id=agency_id, change="removed"
    )
    db.commit()


def sign_in_buttons(db: Session) -> list[SignInButton]:
    providers = db.exec(select(IdentityProvider).order_by(col(IdentityProvider.name))).all()
    return [SignInButton(agency_id=p.agency_id, label=f"Sign in with {p.name}") for p in providers]
