"""Timing a call over and over, for the bench scripts."""

import os
import statistics
import time
from collections.abc import Callable


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of each of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def figures(samples: list[float]) -> str:
    """Median and p99 of seconds, in milliseconds, for a line of a bench's output."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"


def build_scaled_demo(url: str, scale: int) -> None:
    """`hub demo --scale N --build-only` into this database, saying how long it took."""
    from hub.demo.program import DEFAULT_PERSONS
    from hub.demo.services import rebuild_demo
    from hub.settings import get_settings

    os.environ["HUB_DATABASE_URL"] = url
    get_settings.cache_clear()
    started = time.perf_counter()
    rebuild_demo(url, 2011, DEFAULT_PERSONS, scale=scale)
    print(f"built the demo at scale {scale} in {time.perf_counter() - started:.0f} s", flush=True)


def scratch_demo(scratch: str, persons: int):  # type: ignore[no-untyped-def]
    """The demo program of `persons` built into a SQLite file in the folder `scratch`, made
    the hub's database (HUB_DATABASE_URL); returns its engine."""
    from hub.db import engine_for
    from hub.demo.services import rebuild_demo
    from hub.settings import get_settings

    url = f"sqlite:///{scratch}/bench.db"
    os.environ["HUB_DATABASE_URL"] = url
    get_settings.cache_clear()
    rebuild_demo(url, 2011, persons)
    return engine_for(url)


def session_token(db, user) -> str:  # type: ignore[no-untyped-def]
    """A signed-in session (second factor passed) for `user`, committed: its cookie value."""
    from hub.accounts.sessions import start_session

    token, _ = start_session(db, user, mfa_passed=True, address="bench", user_agent="bench")
    db.commit()
    return token
