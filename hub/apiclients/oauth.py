"""POST /oauth/token (RFC 6749 4.4, client credentials) and POST /oauth/revoke (RFC 7009),
through Authlib's authorization server.

Authlib has no FastAPI integration, so this adapts it as its docs describe for a custom
framework (and as its Flask integration does): `create_oauth2_request` wraps the parsed form
and headers in an `OAuth2Request`, `handle_response` turns (status, body, headers) into a
response, `query_client` and `save_token` use the hub's tables. One server per request, bound
to the request's database session and log actor: every token issued, refused or revoked is a
security event committed with it.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Annotated, Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InsecureTransportError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from hub.accounts.rules import record
from hub.apiclients.models import ApiClient, ApiClientToken
from hub.apiclients.services import scope_list, scopes_text, secret_matches
from hub.apiclients.tokens import (
    client_by_id,
    lifetime_seconds,
    new_access_token,
    store_token,
    token_row,
    usable,
)
from hub.audit.log import Actor
from hub.db import utcnow
from hub.vocabulary import ClientScope, SecurityEventTag
from hub.web.dependencies import DB, log_actor

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
_MAX_FIELD = 2000


class HubClient(ClientMixin):
    """An ApiClient as Authlib sees it: confidential, client credentials only."""

    def __init__(self, row: ApiClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # No scope asked: all it was granted (RFC 6749 3.3). A scope it was not granted is
        # refused rather than quietly dropped, so its operators see the mistake.
        granted = set(scope_list(self.row.scopes))
        asked = set(scope.split()) if scope else granted
        return " ".join(sorted(asked)) if asked and asked <= granted else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        # Not yet approved, refused, disabled or expired: authentication fails (401).
        return secret_matches(self.row, client_secret) and usable(self.row)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == ClientCredentialsGrant.GRANT_TYPE


class HubToken(TokenMixin):
    def __init__(self, row: ApiClientToken) -> None:
        self.row = row

    def check_client(self, client: HubClient) -> bool:
        return self.row.api_client_id == client.row.id

    def get_scope(self) -> str:
        return self.row.scopes

    def get_expires_in(self) -> int:
        return lifetime_seconds()

    def is_expired(self) -> bool:
        return utcnow() >= self.row.expires_at

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class FormPayload(OAuth2Payload):
    def __init__(self, form: Mapping[str, list[str]]) -> None:
        self._form = form

    @property
    def data(self) -> dict[str, str]:
        return {key: values[0] for key, values in self._form.items() if values}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return defaultdict(list, {key: list(values) for key, values in self._form.items()})


class FormRequest(OAuth2Request):
    """The request as Authlib reads it: method, URL, headers and the parsed form."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], form: Any) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = FormPayload(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS
    server: "HubAuthorizationServer"

    def query_token(self, token_string: str, token_type_hint: str | None) -> HubToken | None:
        row = token_row(self.server.db, token_string[:_MAX_FIELD])
        return HubToken(row) if row is not None else None

    def revoke_token(self, token: HubToken, request: OAuth2Request) -> None:
        if token.row.revoked_at is None:
            token.row.revoked_at = utcnow()
            token.row.revoked_reason = "revoked_by_client"
            self.server.db.add(token.row)
        record(
            self.server.db,
            self.server.actor,
            SecurityEventTag.api_client_token_revoked,
            api_client_id=token.row.api_client_id,
            token_id=token.row.id,
        )
        self.server.db.commit()


class HubAuthorizationServer(AuthorizationServer):
    """Authlib's server, bound to one request's database session and log actor."""

    def __init__(self, db: Session, actor: Actor) -> None:
        super().__init__(scopes_supported=[scope.value for scope in ClientScope])
        self.db = db
        self.actor = actor
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: new_access_token(),
                expires_generator=lambda client, grant_type: lifetime_seconds(),
            ),
        )
        self.register_grant(ClientCredentials)
        self.register_endpoint(Revocation)

    def query_client(self, client_id: str) -> HubClient | None:
        row = client_by_id(self.db, str(client_id))
        return HubClient(row) if row is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        client: HubClient = request.client
        row = store_token(
            self.db, client.row, token["access_token"], scopes_text(token["scope"].split())
        )
        record(
            self.db,
            self.actor,
            SecurityEventTag.api_client_token_issued,
            api_client_id=client.row.id,
            token_id=row.id,
            scopes=row.scopes,
            expires_in=token["expires_in"],
        )
        # The token is answered only once it and its log entry are committed.
        self.db.commit()

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else FormRequest(*request)

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        return JSONResponse(body, status_code=status, headers=dict(headers))

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        # A refusal is a security event (ASVS V16), naming the client only if it exists.
        self.db.rollback()
        client_id = request.payload.client_id if isinstance(request, OAuth2Request) else None
        known = client_by_id(self.db, str(client_id)) if client_id else None
        if known is None and isinstance(request, OAuth2Request):
            basic = request.client or None
            known = basic.row if isinstance(basic, HubClient) else None
        record(
            self.db,
            self.actor,
            SecurityEventTag.api_client_token_refused,
            "denied",
            error=error.error,
            api_client_id=known.id if known else None,
        )
        self.db.commit()
        return super().handle_error_response(request, error)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


router = APIRouter(prefix="/oauth", tags=["oauth"])


async def _prepared(request: Request) -> "Prepared":
    """The form, awaited here in a dependency so that the route runs in the threadpool."""
    form = await request.form()
    fields: dict[str, list[str]] = defaultdict(list)
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key[:100]].append(value[:_MAX_FIELD])
    # Starlette's headers, not a dict: Authlib asks for "Authorization" whatever its case.
    return request.method, str(request.url), request.headers, dict(fields)


Prepared = tuple[str, str, Mapping[str, str], dict[str, list[str]]]
PreparedForm = Annotated[Prepared, Depends(_prepared)]


def _answer(db: Session, actor: Actor, prepared: Prepared, endpoint: str | None) -> Response:
    server = HubAuthorizationServer(db, actor)
    try:
        oauth_request = server.create_oauth2_request(prepared)
    except InsecureTransportError as error:
        return server.handle_error_response(None, error)
    if endpoint is None:
        return server.create_token_response(oauth_request)
    return server.create_endpoint_response(endpoint, oauth_request)


@router.post("/token")
def token(request: Request, db: DB, prepared: PreparedForm) -> Response:
    """Client credentials grant: HTTP Basic (client_secret_basic) or client_id and
    client_secret in the form (client_secret_post); answers a bearer token of
    HUB_API_CLIENT_TOKEN_MINUTES with the scopes granted (or the subset asked for)."""
    return _answer(db, log_actor(request, None), prepared, None)


@router.post("/revoke")
def revoke(request: Request, db: DB, prepared: PreparedForm) -> Response:
    """RFC 7009: the client revokes one of its tokens (200 whether or not it was known)."""
    return _answer(db, log_actor(request, None), prepared, RevocationEndpoint.ENDPOINT_NAME)
