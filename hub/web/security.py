"""Headers on every response, and a request id that ties a response to its log entries."""

import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTMX_VERSION = "2.0.8"
HTMX_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
# sha384 of dist/htmx.min.js in the npm package htmx.org@2.0.8 (package-lock.json pins the same)
HTMX_INTEGRITY = "sha384-/TgkGk7p307TH7EXJDuUlgG3Ce1UVolAOFopFekQkkXihi5u/6OCvVKyz1W+idaz"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {HTMX_URL}",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)

_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # Client data must not sit in shared or browser caches (ASVS V14.3).
    (b"cache-control", b"no-store"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
# Names a route's own response may not set: ours replace them (built once, not per response).
_OURS = frozenset(name for name, _ in _HEADERS)


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers and a fresh X-Request-ID to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(12)
        scope.setdefault("state", {})["request_id"] = request_id
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                headers: list[Any] = [
                    (name, value) for name, value in given if name.lower() not in _OURS
                ]
                headers.extend(_HEADERS)
                # A download's own CSP that sandboxes it (hub.documents) is stricter: it stays.
                sandboxed = [
                    (name, value)
                    for name, value in given
                    if name.lower() == b"content-security-policy" and value.startswith(b"sandbox")
                ]
                if sandboxed:
                    headers = [h for h in headers if h[0] != b"content-security-policy"]
                    headers.extend(sandboxed)
                if https:
                    headers.append(_HSTS)
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
