"""How many requests one worker process works on at once.

A worker runs page code on one core, under one GIL. Given every waiting request at once, its
threads take turns at the GIL, and a request holding the log's lock (hub.audit.log) runs at a
fraction of the speed while every disclosing request of every process waits for it. Admitting
a few at a time, in arrival order, and letting the rest wait in the event loop (holding no
thread and no database connection) keeps each admitted request quick; measured in
docs/load-test.md ("Requests in progress per worker").
"""

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class AdmissionLimit:
    """Pure ASGI middleware: at most `limit` HTTP requests of this process in the app at once;
    the others wait their turn, first come first served."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        # Made on the first request, inside the event loop that serves this process.
        self._turns: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.limit)
        async with self._turns:
            await self.app(scope, receive, send)
