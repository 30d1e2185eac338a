"""Talking to an agency's OpenID provider: discovery, the authorization request (PKCE S256,
state, nonce), the code exchange through Authlib's client, and the validation of ID tokens
and back-channel logout tokens against the provider's JWKS (joserfc, Authlib's JOSE library).

Nothing here touches the database: hub.identity.services decides what a token may open.
"""

import base64
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

# An agency's provider that answers slower than this counts as down: the sign-in page says
# so and the password sign-in stays open.
TIMEOUT_SECONDS = 5
SCOPE = "openid email"
# Asymmetric algorithms only: never "none", never a key shared with the client (HS256).
ALGORITHMS = ["RS256", "PS256", "ES256"]
CLOCK_SKEW_SECONDS = 60
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class ProviderUnreachable(Exception):
    """The provider did not answer, or answered with something that is not OpenID metadata."""


class TokenRefused(Exception):
    """A token or a code was refused; `reason` is the code logged with the failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    userinfo_endpoint: str | None


def check_issuer_address(issuer: str) -> None:
    """An issuer is an https:// address (http:// only on loopback, for tests and demos)."""
    parts = urlsplit(issuer)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError("The issuer must be an https:// address.")
    if not parts.hostname or parts.query or parts.fragment:
        raise ValueError("The issuer must be an address without query or fragment.")


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnreachable(type(exc).__name__) from exc
    if not isinstance(body, dict):
        raise ProviderUnreachable("not_an_object")
    return body


def discover(issuer: str) -> ProviderMetadata:
    """The provider's metadata (OpenID Connect Discovery 1.0), whose issuer must be exactly
    the configured one (section 4.3), else an impostor could name its own endpoints."""
    body = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    try:
        metadata = ProviderMetadata(
            issuer=str(body["issuer"]),
            authorization_endpoint=str(body["authorization_endpoint"]),
            token_endpoint=str(body["token_endpoint"]),
            jwks_uri=str(body["jwks_uri"]),
            end_session_endpoint=body.get("end_session_endpoint"),
            userinfo_endpoint=body.get("userinfo_endpoint"),
        )
    except KeyError as exc:
        raise ProviderUnreachable("incomplete_metadata") from exc
    if metadata.issuer != issuer:
        raise ProviderUnreachable("issuer_mismatch")
    return metadata


# --- the provider's signing keys --------------------------------------------------------------

# Keys are kept at most this long, so a key the provider withdrew stops working soon after.
KEYS_MAX_AGE_SECONDS = 600.0
# An unknown key id fetches the keys again, but not more often than this: a stream of tokens
# with made-up key ids must not turn the hub into a flood of requests to the provider.
KEYS_REFETCH_SECONDS = 1.0

_keys: dict[str, tuple[float, KeySet]] = {}
_keys_lock = threading.Lock()


def _fetch_keys(jwks_uri: str) -> KeySet:
    keys = KeySet.import_key_set(_get_json(jwks_uri))  # type: ignore[arg-type]
    with _keys_lock:
        _keys[jwks_uri] = (time.monotonic(), keys)
    return keys


def _cached_keys(jwks_uri: str, *, unknown_kid: bool = False) -> KeySet:
    with _keys_lock:
        fetched_at, keys = _keys.get(jwks_uri, (None, None))
    age = None if fetched_at is None else time.monotonic() - fetched_at
    limit = KEYS_REFETCH_SECONDS if unknown_kid else KEYS_MAX_AGE_SECONDS
    if keys is None or age is None or age >= limit:
        return _fetch_keys(jwks_uri)
    return keys


def forget_keys() -> None:
    """Empties the per-process cache of signing keys (tests)."""
    with _keys_lock:
        _keys.clear()


def verify_signature(token: str, metadata: ProviderMetadata) -> jwt.Token:
    """The token's signature checked against the provider's keys. An unknown key id fetches
    the JWKS once more, so a key the provider has rotated in is found."""
    try:
        try:
            return jwt.decode(token, _cached_keys(metadata.jwks_uri), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            keys = _cached_keys(metadata.jwks_uri, unknown_kid=True)
            return jwt.decode(token, keys, algorithms=ALGORITHMS)
    except InvalidKeyIdError as exc:
        raise TokenRefused("unknown_signing_key") from exc
    except JoseError as exc:
        raise TokenRefused("bad_signature") from exc
    except ValueError as exc:  # not a JWT at all
        raise TokenRefused("malformed_token") from exc


def _check_claims(claims: dict[str, Any], metadata: ProviderMetadata, client_id: str) -> None:
    now = time.time()
    if claims.get("iss") != metadata.issuer:
        raise TokenRefused("wrong_issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise TokenRefused("wrong_audience")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRefused("wrong_audience")
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or issued > now + CLOCK_SKEW_SECONDS:
        raise TokenRefused("bad_issued_at")
    if not isinstance(claims.get("sub", ""), str):
        raise TokenRefused("bad_subject")


def validate_id_token(
    token: str, metadata: ProviderMetadata, client_id: str, nonce: str
) -> dict[str, Any]:
    """The claims of an ID token (OpenID Connect Core 3.1.3.7): signature, issuer, audience,
    expiry and the nonce this browser's request carried."""
    claims = dict(verify_signature(token, metadata).claims)
    _check_claims(claims, metadata, client_id)
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires < time.time() - CLOCK_SKEW_SECONDS:
        raise TokenRefused("expired")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise TokenRefused("nonce_mismatch")
    if not claims.get("sub"):
        raise TokenRefused("bad_subject")
    return claims


def validate_logout_token(token: str, metadata: ProviderMetadata, client_id: str) -> dict[str, Any]:
    """The claims of a back-channel logout token (OpenID Connect Back-Channel Logout 2.6):
    signature, issuer, audience, iat, the logout event, a sid or a sub, and no nonce."""
    claims = dict(verify_signature(token, metadata).claims)
    _check_claims(claims, metadata, client_id)
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
        raise TokenRefused("not_a_logout_token")
    if "nonce" in claims:
        raise TokenRefused("nonce_in_logout_token")
    if not (claims.get("sid") or claims.get("sub")):
        raise TokenRefused("no_sid_or_sub")
    return claims


# --- the authorization code flow (Authlib's client) --------------------------------------------


def _client(client_id: str, secret: str | None, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def authorization_url(
    metadata: ProviderMetadata,
    client_id: str,
    redirect_uri: str,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
) -> str:
    """Where the browser goes to sign in at the provider (RFC 7636 S256 challenge)."""
    with _client(client_id, None, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, nonce=nonce, code_verifier=code_verifier
        )
    return str(url)


def exchange_code(
    metadata: ProviderMetadata,
    client_id: str,
    secret: str,
    redirect_uri: str,
    *,
    code: str,
    code_verifier: str,
) -> tuple[str, str | None]:
    """Redeems the code (with the PKCE verifier) at the token endpoint; returns the ID token
    and the access token (for the UserInfo endpoint)."""
    with _client(client_id, secret, redirect_uri) as client:
        try:
            answer = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=TIMEOUT_SECONDS,
            )
        except OAuthError as exc:
            raise TokenRefused("code_refused") from exc
        except requests.RequestException as exc:
            raise ProviderUnreachable(type(exc).__name__) from exc
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise TokenRefused("no_id_token")
    access_token = answer.get("access_token")
    return id_token, access_token if isinstance(access_token, str) else None


def with_userinfo(
    claims: dict[str, Any], metadata: ProviderMetadata, access_token: str | None
) -> dict[str, Any]:
    """The ID token's claims, completed with the e-mail claims from the UserInfo endpoint when
    the provider keeps them there (OpenID Connect Core 5.4). UserInfo of another subject is
    refused (5.3.2: its sub must be the ID token's)."""
    if "email" in claims or not metadata.userinfo_endpoint or not access_token:
        return claims
    try:
        response = requests.get(
            metadata.userinfo_endpoint,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnreachable(type(exc).__name__) from exc
    if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
        raise TokenRefused("userinfo_subject_mismatch")
    return {**claims, **{k: info[k] for k in ("email", "email_verified") if k in info}}


def unverified_issuer(token: str) -> str | None:
    """The `iss` a JWT claims, before anything is checked: only to pick whose keys check it."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None
