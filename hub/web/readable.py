"""Input the hub cannot read as text is refused, whole, before anything acts on it.

The path, the query string and a form body must be UTF-8 without NUL characters. Starlette
would put U+FFFD where a form or query value is not UTF-8 (and Latin-1 guesses in a multipart
part), so a note would be stored with characters no one typed; PostgreSQL cannot store a NUL at
all. FastAPI parses a route's form before any dependency runs, so the raw body is checked on its
way in (`ReadableForms`, ASGI) and the request is refused with 422 by the app-wide dependency
`readable_input`, through the app's error pages, before CSRF, the route or a query."""

import re
import urllib.parse

from fastapi import HTTPException, Request, status
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.settings import get_settings
from hub.web.dependencies import FORM_TYPES, SAFE_METHODS

UNREADABLE = "The request is not valid UTF-8 text; nothing was changed."
NUL = "The request holds a NUL character, which no field takes; nothing was changed."
_MARK = "unreadable_input"
# The routes that take a binary file (a client's document), by the setting that bounds it:
# their multipart body holds a binary part, so it is not read as text (each text field there
# is a choice from a list or a number, checked by the route and the service); its size is
# counted as it arrives and the upload refused (413) once past the limit and the form around
# it, before the rest is read. (A court order's copy still goes through the text check: its
# form has free text, which this check keeps from being stored with replacement characters.)
UPLOAD_PATHS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/clients/[0-9]+/documents$"), "document_max_bytes"),
)
UPLOAD_OVERHEAD = 64 * 1024
TOO_LARGE = "The file is larger than the hub takes; nothing was changed."


def problem_with_query(raw: bytes) -> str | None:
    """A query string or urlencoded body: percent-encoded ASCII whose bytes decode as UTF-8."""
    try:
        pairs = urllib.parse.parse_qsl(
            raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        return UNREADABLE
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        return NUL
    return None


def problem_with_form(raw: bytes, content_type: str) -> str | None:
    if content_type.startswith(FORM_TYPES[0]):
        return problem_with_query(raw)
    # No route takes a file, so a multipart body is text throughout (its boundaries and part
    # headers are ASCII).
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return UNREADABLE
    return NUL if "\x00" in text else None


class ReadableForms:
    """Pure ASGI middleware: reads a form body as it arrives, notes in the request's state what
    is wrong with it, and hands the same bytes on (a client that goes away mid-body is handed
    on as it was, so the route sees the disconnect as before)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = _header(scope, b"content-type")
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not content_type.startswith(FORM_TYPES)
        ):
            await self.app(scope, receive, send)
            return
        setting = next(
            (name for path, name in UPLOAD_PATHS if path.match(scope.get("path", ""))), None
        )
        upload = setting is not None and content_type.startswith("multipart/form-data")
        limit = int(getattr(get_settings(), setting or "document_max_bytes")) + UPLOAD_OVERHEAD
        declared = _header(scope, b"content-length")
        if upload and declared.isdigit() and int(declared) > limit:
            await PlainTextResponse(TOO_LARGE, status_code=413)(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if upload and size > limit:
                # Stop reading: the rest of the body is never taken in.
                await PlainTextResponse(TOO_LARGE, status_code=413)(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if messages[-1]["type"] == "http.request" and not upload:
            body = b"".join(m.get("body", b"") for m in messages)
            problem = problem_with_form(body, content_type)
            if problem:
                scope.setdefault("state", {})[_MARK] = problem

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            # Starlette reads the media type case-blind: so must this check.
            return str(value.decode("latin-1")).strip().lower()
    return ""


async def readable_input(request: Request) -> None:
    """App-wide dependency: 422 for a path, query string or form body that is not UTF-8 text
    without NUL characters (the form as ReadableForms found it)."""
    problem = getattr(request.state, _MARK, None)
    if "\x00" in request.url.path:
        problem = NUL
    problem = problem or problem_with_query(request.scope.get("query_string", b""))
    if problem:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
