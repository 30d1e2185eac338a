"""A worker works on at most HUB_CONCURRENT_REQUESTS requests at once; the rest wait their
turn, in arrival order, and are answered, not refused (hub.web.admission)."""

import asyncio

import pytest
from sqlalchemy.pool import QueuePool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Scope

from hub.web.admission import AdmissionLimit
from tests.event_loop import run_to_completion


def _counting_app(limit: int) -> tuple[AdmissionLimit, dict[str, int], list[int]]:
    seen = {"now": 0, "most": 0}
    started: list[int] = []

    async def page(request: Request) -> PlainTextResponse:
        started.append(int(request.query_params["n"]))
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        await asyncio.sleep(0.02)
        seen["now"] -= 1
        return PlainTextResponse("ok")

    return AdmissionLimit(Starlette(routes=[Route("/", page)]), limit=limit), seen, started


async def _get(app: AdmissionLimit, n: int) -> int:
    """One GET straight through ASGI; its status code."""
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": f"n={n}".encode(),
        "headers": [],
        "scheme": "http",
        "server": ("hub.test", 80),
        "http_version": "1.1",
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def _ask_at_once(app: AdmissionLimit, count: int) -> list[int]:
    async def ask() -> list[int]:
        answers = []
        for n in range(count):
            answers.append(asyncio.create_task(_get(app, n)))
            await asyncio.sleep(0)  # arrive in order
        return [await a for a in answers]

    return run_to_completion(ask())


def test_no_more_than_the_limit_at_once_and_every_request_is_answered() -> None:
    app, seen, _ = _counting_app(limit=2)
    assert _ask_at_once(app, 9) == [200] * 9
    assert seen["most"] == 2


def test_waiting_requests_are_taken_in_arrival_order() -> None:
    app, _, started = _counting_app(limit=1)
    _ask_at_once(app, 6)
    assert started == list(range(6))


def test_the_app_applies_the_configured_limit(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from hub.settings import get_settings
    from hub.web.app import create_app

    get_settings.cache_clear()
    monkeypatch.setenv("HUB_CONCURRENT_REQUESTS", "3")
    app = create_app()
    limits = [m.kwargs["limit"] for m in app.user_middleware if m.cls is AdmissionLimit]
    assert limits == [3]
    get_settings.cache_clear()


def test_a_cancelled_request_still_returns_its_database_connection(database_url: str) -> None:
    """The request's session closes even when the request is cancelled (a client that went
    away) while the close waits for the threadpool: the connection goes back to the pool at
    once, not whenever the garbage collector finds it."""
    import contextlib

    import anyio

    from hub.db import get_engine
    from hub.settings import get_settings
    from hub.web.dependencies import database

    get_settings.cache_clear()
    pool = get_engine().pool
    assert isinstance(pool, QueuePool)

    async def request_cancelled_while_closing() -> None:
        async with anyio.create_task_group() as group:

            async def request() -> None:
                async with contextlib.asynccontextmanager(database)() as db:
                    db.connection()  # checks a connection out, as the first query does
                    group.cancel_scope.cancel()  # the client goes away mid-request
                    await anyio.sleep(1)

            group.start_soon(request)

    run_to_completion(request_cancelled_while_closing())
    assert pool.checkedout() == 0
