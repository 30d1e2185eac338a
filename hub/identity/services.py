"""Signing in through an agency's OpenID provider: the rules, without HTTP.

Accounts still come only from the hub's invitation and second-person approval (CJIS AC-2,
hub.accounts.approvals): a provider's first sign-in links a verified e-mail to an account the
hub already made for that agency, and claims never create an account or give a role. The
provider's multi-factor sign-in counts only where the program office trusts it (CJIS IA-2);
otherwise the hub's own TOTP step follows. Every step is a security event (AU-2).
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pyotp
from sqlalchemy import delete
from sqlmodel import Session, col, select

from hub.accounts.models import SignInAttempt, User
from hub.accounts.rules import acting_as, record, user_by_email
from hub.accounts.second_factor import has_second_factor
from hub.accounts.sessions import end_all_sessions, hash_token, start_session
from hub.accounts.signing_in import is_inactive, refuse_if_rate_limited
from hub.audit.log import Actor
from hub.crypto import key_ring
from hub.db import ident, utcnow
from hub.identity.config import client_secret, domains_of, provider_of
from hub.identity.models import IdentityLink, IdentityProvider, OidcAuthorization, OidcSession
from hub.identity.provider import (
    ProviderMetadata,
    ProviderUnreachable,
    TokenRefused,
    discover,
    exchange_code,
    unverified_issuer,
    validate_id_token,
    validate_logout_token,
    with_userinfo,
)
from hub.identity.provider import authorization_url as provider_authorization_url
from hub.settings import get_settings
from hub.vocabulary import SecurityEventTag, SignInStage, UserStatus

CALLBACK_PATH = "/sign-in/oidc/callback"
# The sign-in at the provider must come back promptly; a request left open is refused.
AUTHORIZATION_MINUTES = 10
# RFC 8176 methods that are themselves a second factor, or say that several were used.
MULTI_FACTOR_AMR = frozenset({"mfa", "otp", "hwk", "sc", "fpt", "face", "iris", "retina"})

PROVIDER_DOWN = (
    "{name} cannot be reached just now, so signing in through it does not work at the moment. "
    "Try again in a few minutes, or sign in below with your e-mail address and password if "
    "your account has one."
)
REFUSED = (
    "Signing in through your agency's identity provider did not open the hub. Your account "
    "must have been created in the hub first, with the same e-mail address, and approved. "
    "Ask your agency's administrator if this goes on."
)


class ProviderDown(Exception):
    """The provider did not answer; the message is safe to show."""


class OidcRefused(Exception):
    """The sign-in was refused; the message is the same whatever the reason (logged)."""


@dataclass(frozen=True)
class StartedSignIn:
    url: str  # the provider's authorization endpoint, with this request's parameters
    browser_token: str  # the flow cookie's value: the callback must come to this browser


@dataclass(frozen=True)
class OidcSignedIn:
    token: str  # the session cookie's value
    mfa_passed: bool
    needs_enrolment: bool


def redirect_uri() -> str:
    return get_settings().public_url + CALLBACK_PATH


def _metadata(db: Session, actor: Actor, provider: IdentityProvider) -> ProviderMetadata:
    try:
        return discover(provider.issuer)
    except ProviderUnreachable as down:
        _fail(db, actor, provider.agency_id, "provider_unreachable", detail=str(down))
        raise ProviderDown(PROVIDER_DOWN.format(name=provider.name)) from down


def _fail(
    db: Session, actor: Actor, agency_id: int | None, reason: str, **detail: Any
) -> OidcRefused:
    """Logs a refused provider sign-in with its reason code (counted against the address, as
    any failed sign-in is), commits, and returns the error to raise."""
    address = (actor.address or "unknown")[:64]
    db.add(SignInAttempt(address=address, succeeded=False, stage=SignInStage.provider.value))
    record(
        db,
        actor,
        SecurityEventTag.oidc_sign_in_failure,
        "failure",
        reason=reason,
        agency_id=agency_id,
        **detail,
    )
    db.commit()
    return OidcRefused(REFUSED)


def begin_sign_in(db: Session, actor: Actor, agency_id: int) -> StartedSignIn:
    """Starts the authorization code flow with PKCE (S256), state and nonce, bound to the
    browser by a flow cookie. Raises ProviderDown when the provider does not answer, and
    SignInRateLimited when the address has failed too often (CJIS AC-7)."""
    refuse_if_rate_limited(db, actor, SignInStage.provider)
    provider = provider_of(db, agency_id)
    if provider is None:
        raise _fail(db, actor, agency_id, "no_provider")
    metadata = _metadata(db, actor, provider)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    browser_token = secrets.token_urlsafe(32)
    # Requests older than a day are spent or abandoned: nothing can use them any more.
    db.exec(
        delete(OidcAuthorization).where(
            col(OidcAuthorization.created_at) < utcnow() - timedelta(days=1)
        )
    )
    db.add(
        OidcAuthorization(
            state_hash=hash_token(state),
            browser_hash=hash_token(browser_token),
            agency_id=agency_id,
            nonce=nonce,
            code_verifier=verifier,
        )
    )
    db.commit()
    url = provider_authorization_url(
        metadata,
        provider.client_id,
        redirect_uri(),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
    )
    return StartedSignIn(url=url, browser_token=browser_token)


def _take_authorization(
    db: Session, actor: Actor, state: str, browser_token: str | None
) -> OidcAuthorization:
    """The request this callback answers, used up now: a replayed callback finds nothing."""
    pending = db.exec(
        select(OidcAuthorization).where(col(OidcAuthorization.state_hash) == hash_token(state))
    ).first()
    if pending is None or pending.used_at is not None:
        raise _fail(db, actor, None, "unknown_state")
    pending.used_at = utcnow()
    db.add(pending)
    db.commit()
    if browser_token is None or hash_token(browser_token) != pending.browser_hash:
        raise _fail(db, actor, pending.agency_id, "other_browser")
    if utcnow() - pending.created_at > timedelta(minutes=AUTHORIZATION_MINUTES):
        raise _fail(db, actor, pending.agency_id, "request_expired")
    return pending


def _linked_account(
    db: Session, actor: Actor, provider: IdentityProvider, claims: dict[str, Any]
) -> User:
    """The account this subject signs in as: its link, or on the first sign-in the invited
    account of this agency with the provider's verified e-mail (then linked). Never creates
    an account, never reads a role from the claims."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    link = db.exec(
        select(IdentityLink).where(
            col(IdentityLink.issuer) == issuer, col(IdentityLink.subject) == subject
        )
    ).first()
    if link is not None:
        user = db.get(User, link.user_id)
        if user is None or user.agency_id != provider.agency_id:
            raise _fail(db, actor, provider.agency_id, "link_to_other_agency")
        return user
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str):
        raise _fail(db, actor, provider.agency_id, "email_not_verified")
    domain = email.rsplit("@", 1)[-1].lower()
    if domain not in domains_of(provider):
        raise _fail(db, actor, provider.agency_id, "domain_not_allowed")
    user = user_by_email(db, email)
    if user is None or user.agency_id != provider.agency_id:
        raise _fail(db, actor, provider.agency_id, "no_invited_account")
    taken = db.exec(select(IdentityLink).where(col(IdentityLink.user_id) == user.id)).first()
    if taken is not None:
        # The account already signs in as another subject: a second one is not linked.
        raise _fail(db, actor, provider.agency_id, "account_linked_elsewhere", account_id=user.id)
    if user.status != UserStatus.active:
        raise _fail(
            db, actor, provider.agency_id, f"account_{user.status.value}", account_id=user.id
        )
    link = IdentityLink(user_id=ident(user.id), issuer=issuer, subject=subject)
    db.add(link)
    db.flush()
    record(
        db,
        acting_as(actor, user),
        SecurityEventTag.oidc_link_created,
        agency_id=provider.agency_id,
        issuer=issuer,
    )
    return user


def provider_mfa(provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    """Whether the provider's own sign-in counts as the second factor (CJIS IA-2): only where
    the program office trusts this provider, and only if amr or acr says so."""
    if not provider.trust_mfa:
        return False
    methods = claims.get("amr")
    if isinstance(methods, list) and MULTI_FACTOR_AMR.intersection(map(str, methods)):
        return True
    return provider.trusted_acr is not None and claims.get("acr") == provider.trusted_acr


def complete_sign_in(
    db: Session,
    actor: Actor,
    *,
    state: str,
    code: str | None,
    provider_error: str | None,
    browser_token: str | None,
    user_agent: str | None,
) -> OidcSignedIn:
    """Redeems the code, validates the ID token and opens a session: a full one when the
    provider's MFA is trusted, else one that waits for the hub's TOTP step."""
    refuse_if_rate_limited(db, actor, SignInStage.provider)
    pending = _take_authorization(db, actor, state, browser_token)
    provider = provider_of(db, pending.agency_id)
    if provider is None:
        raise _fail(db, actor, pending.agency_id, "no_provider")
    if provider_error is not None or not code:
        # The provider's error code only (RFC 6749 4.1.2.1: a short ASCII token), never
        # whatever else a forged callback put there.
        error = re.sub(r"[^a-z_]", "", (provider_error or "").lower())[:40] or None
        raise _fail(db, actor, provider.agency_id, "provider_error", error=error)
    secret = client_secret(provider)
    if secret is None:
        raise _fail(db, actor, provider.agency_id, "client_secret_missing")
    metadata = _metadata(db, actor, provider)
    try:
        id_token, access_token = exchange_code(
            metadata,
            provider.client_id,
            secret,
            redirect_uri(),
            code=code,
            code_verifier=pending.code_verifier,
        )
        claims = validate_id_token(id_token, metadata, provider.client_id, pending.nonce)
        claims = with_userinfo(claims, metadata, access_token)
    except TokenRefused as refused:
        raise _fail(db, actor, provider.agency_id, refused.reason) from refused
    except ProviderUnreachable as down:
        _fail(db, actor, provider.agency_id, "provider_unreachable")
        raise ProviderDown(PROVIDER_DOWN.format(name=provider.name)) from down
    user = _linked_account(db, actor, provider, claims)
    if user.status != UserStatus.active or is_inactive(user, utcnow()):
        raise _fail(
            db, actor, provider.agency_id, f"account_{user.status.value}", account_id=user.id
        )
    return _open_session(db, actor, provider, user, claims, user_agent)


def _open_session(
    db: Session,
    actor: Actor,
    provider: IdentityProvider,
    user: User,
    claims: dict[str, Any],
    user_agent: str | None,
) -> OidcSignedIn:
    address = (actor.address or "unknown")[:64]
    mfa_passed = provider_mfa(provider, claims)
    token, session = start_session(
        db, user, mfa_passed=mfa_passed, address=address, user_agent=user_agent
    )
    needs_enrolment = not mfa_passed and not has_second_factor(user)
    if needs_enrolment:
        session.pending_totp_sealed = key_ring().seal(pyotp.random_base32())
        db.add(session)
    # A session the provider's MFA completed counts as a completed sign-in (AC-7 resets on it).
    stage = SignInStage.second_factor if mfa_passed else SignInStage.provider
    db.add(SignInAttempt(user_id=user.id, address=address, succeeded=True, stage=stage.value))
    if mfa_passed:
        user.last_active_at = utcnow()
        db.add(user)
    sid = claims.get("sid")
    db.add(
        OidcSession(
            user_id=ident(user.id),
            session_id=ident(session.id),
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            sid=str(sid)[:255] if sid else None,
        )
    )
    record(
        db,
        acting_as(actor, user),
        SecurityEventTag.oidc_sign_in_success,
        agency_id=provider.agency_id,
        session_id=session.id,
        mfa="provider" if mfa_passed else "hub_totp_follows",
    )
    db.commit()
    return OidcSignedIn(token=token, mfa_passed=mfa_passed, needs_enrolment=needs_enrolment)


# --- logout --------------------------------------------------------------------------------------


def backchannel_logout(db: Session, actor: Actor, logout_token: str) -> int:
    """Ends the hub sessions of the subject (or the provider session `sid`) that a valid
    logout token names (OpenID Connect Back-Channel Logout 1.0). Returns how many ended;
    raises OidcRefused for a token no configured provider signed."""
    issuer = unverified_issuer(logout_token)
    providers = db.exec(
        select(IdentityProvider).where(col(IdentityProvider.issuer) == (issuer or ""))
    ).all()
    claims: dict[str, Any] | None = None
    reason = "unknown_issuer"
    for provider in providers:
        try:
            claims = validate_logout_token(
                logout_token, discover(provider.issuer), provider.client_id
            )
            break
        except TokenRefused as refused:
            reason = refused.reason
        except ProviderUnreachable:
            reason = "provider_unreachable"
    if claims is None:
        record(db, actor, SecurityEventTag.oidc_logout, "failure", reason=reason)
        db.commit()
        raise OidcRefused("logout token refused")
    query = select(OidcSession.user_id).where(col(OidcSession.issuer) == claims["iss"])
    if claims.get("sid"):
        query = query.where(col(OidcSession.sid) == str(claims["sid"]))
    if claims.get("sub"):
        query = query.where(col(OidcSession.subject) == str(claims["sub"]))
    # The TOTP step replaces the provider's half session with a new one, so the user's live
    # sessions all end: a logout at the provider never leaves a hub session open.
    ended = sum(end_all_sessions(db, uid, "oidc_logout") for uid in set(db.exec(query).all()))
    record(db, actor, SecurityEventTag.oidc_logout, sessions_ended=ended)
    db.commit()
    return ended


def provider_logout_url(db: Session, user_id: int) -> str | None:
    """RP-initiated logout: where to send the browser after the hub session ended, so that the
    provider's session ends too. None when the account never signed in through a provider or
    the provider does not answer (the hub session is ended either way)."""
    user = db.get(User, user_id)
    linked = db.exec(select(IdentityLink).where(col(IdentityLink.user_id) == user_id)).first()
    provider = provider_of(db, user.agency_id) if user is not None else None
    if linked is None or provider is None or linked.issuer != provider.issuer:
        return None
    try:
        endpoint = discover(provider.issuer).end_session_endpoint
    except ProviderUnreachable:
        return None
    if not endpoint:
        return None
    query = {
        "client_id": provider.client_id,
        "post_logout_redirect_uri": get_settings().public_url + "/sign-in",
    }
    return f"{endpoint}?{urlencode(query)}"
