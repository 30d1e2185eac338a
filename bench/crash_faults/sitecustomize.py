"""A deliberately broken hub, to show that bench/crash.py can fail.

`python bench/crash.py --broken FAULT` puts this directory first on the server's PYTHONPATH and
sets HUB_CRASH_FAULT=FAULT; Python imports `sitecustomize` at start-up in the uvicorn master and
in every worker it spawns, before the hub is imported, so the modules that later
`from ... import` the patched functions get the broken ones. Nothing in hub/ imports this file and
no other run puts it on the path.

Faults:

- `deferred-log`: a disclosure's log entry is written by a background thread 1.5 s after the
  response has gone out, instead of in the transaction that read the data. A kill in between
  loses the entry of a page the user has already seen: check b must fail.
- `early-ack`: a case note is acknowledged (303 to the notes page) before it is written; the
  write and its log entry follow 1.5 s later in a background thread. A kill in between loses a
  note the user was told was saved: check c must fail.
"""

import os
import sys
import threading
from typing import Any

FAULT = os.environ.get("HUB_CRASH_FAULT", "")
DELAY_SECONDS = float(os.environ.get("HUB_CRASH_FAULT_DELAY", "1.5"))


def _later(work: Any, *args: Any) -> None:
    timer = threading.Timer(DELAY_SECONDS, work, args)
    timer.daemon = True  # a kill (or a clean stop) drops what is still waiting: that is the fault
    timer.start()


def _new_session() -> Any:
    from sqlmodel import Session

    from hub.db import get_engine

    return Session(get_engine(), expire_on_commit=False)


def _defer_disclosure_log() -> None:
    import hub.audit.log as log

    real_append = log.append

    def write_later(actor: log.Actor, event: log.Event) -> None:
        with _new_session() as db:
            real_append(db, actor, event)
            db.commit()

    def append_and_commit(db: Any, actor: log.Actor, event: log.Event) -> log.LogEntry:
        if event.kind != "disclosure":
            entry = real_append(db, actor, event)
            db.commit()
            return entry
        # Take a seq for the page to show, then drop the entry from this transaction (the
        # entry object is not in the session: append writes it with a plain INSERT).
        entry = real_append(db, actor, event)
        db.rollback()
        _later(write_later, actor, event)
        return entry

    log.append_and_commit = append_and_commit  # type: ignore[assignment]


def _acknowledge_notes_early() -> None:
    import hub.clients.services as services

    real_add = services.add_case_note

    def write_later(viewer: Any, person_id: int, category: Any, body: str, actor: Any) -> None:
        with _new_session() as db:
            real_add(db, viewer, person_id, category, body, actor)

    def add_case_note(
        db: Any, viewer: Any, person_id: int, category: Any, body: str, actor: Any
    ) -> Any:
        _later(write_later, viewer, person_id, category, body, actor)
        return services.CaseNote(
            person_id=person_id, author_id=viewer.user_id, category=category, body=body
        )

    services.add_case_note = add_case_note  # type: ignore[assignment]


_FAULTS = {"deferred-log": _defer_disclosure_log, "early-ack": _acknowledge_notes_early}

if FAULT:
    _FAULTS[FAULT]()
    # The server log shows that the broken build is the one running (bench/crash.py checks it).
    print(f"hub crash fault active: {FAULT} (pid {os.getpid()})", file=sys.stderr, flush=True)
