"""Tells every process of a new policy release at once, through Redis (HUB_REDIS_URL).

Built on pycasbin's `redis-watcher` (RedisWatcher), used outside a casbin Enforcer: its
callback is ours (hub.disclosure.releases.heard_of_a_release) and its `update()` publishes. A
message carries no policy and is not trusted: it only makes each process run its version check
at its next decision, and the database says what is in force. So a missing, dead or
unreachable Redis costs at most the version check's interval (CHECK_INTERVAL_SECONDS), never a
request: every failure here is a warning without personal data.

What we add around the package, and why:
- its connections come from HUB_REDIS_URL with a connect timeout (`_get_redis_conn`): the
  package builds them from host and port with none, so an unreachable host would hold a worker;
- a publish runs on a thread we wait for at most PUBLISH_WAIT_SECONDS, so a Redis that accepts
  a connection and never answers does not hold up a release;
- a supervisor thread calls the package's `should_reload()` every few seconds, which restarts
  its subscriber after Redis went away (the package does not on its own). On resubscribing the
  package publishes an update, so every process checks once more after an outage;
- the channel is named per installation and database, so hubs sharing a Redis (and tests
  running side by side) do not hear each other.

The package reports its own connection errors with print(); they name the Redis host, never
any client data.
"""

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from hub.settings import get_settings

log = logging.getLogger("hub.policy")

PUBLISH_WAIT_SECONDS = 2.0
SUPERVISE_EVERY_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 1.0


def channel_for(url: URL, secret: str) -> str:
    """The channel of one installation's database: the same in every process that shares the
    database and the secret key, different for any other (and naming neither)."""
    if url.get_backend_name() == "sqlite":
        from pathlib import Path

        database = str(Path(url.database or "").resolve())
    else:
        database = url.database or ""
    digest = hmac.new(secret.encode(), b"policy-channel:" + database.encode(), hashlib.sha256)
    return f"diversion-hub:{digest.hexdigest()[:20]}:policy"


def _channel(engine: Engine) -> str:
    secret = get_settings().secret_key
    assert secret is not None  # Settings refuses to start without it
    return channel_for(engine.url, secret.get_secret_value())


def _watcher_class() -> Any:
    from redis import Redis
    from redis_watcher import RedisWatcher

    class _Watcher(RedisWatcher):
        def __init__(self, url: str) -> None:
            super().__init__(logger=log)
            self._url = url

        def _get_redis_conn(self) -> Redis:
            # No read timeout: the subscriber blocks reading on purpose; a dead peer is noticed
            # by TCP keepalive, and the version check covers the meantime.
            return Redis.from_url(
                self._url,
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                socket_keepalive=True,
            )

    return _Watcher


def _ignore(_message: str) -> None:
    pass


def _options(channel: str, callback: Callable[[str], None]) -> Any:
    from redis_watcher import WatcherOptions

    options = WatcherOptions()
    options.channel = channel
    options.optional_update_callback = callback
    options.init_config()
    return options


class PolicyWatcher:
    """One process's subscription: calls `on_release` on every message on the channel."""

    def __init__(self, url: str, channel: str, on_release: Callable[[], None]) -> None:
        self.url, self.channel, self.on_release = url, channel, on_release
        self._stopped = threading.Event()
        self._watcher: Any = None
        self._thread = threading.Thread(target=self._run, name="policy-watcher", daemon=True)
        self.available: bool | None = None  # None until first seen

    def start(self) -> "PolicyWatcher":
        self._thread.start()
        return self

    def _heard(self, _message: str) -> None:
        self.on_release()

    def _run(self) -> None:
        try:
            watcher = _watcher_class()(self.url)
            watcher.init_config(_options(self.channel, self._heard))
            watcher.init_publisher_subscriber()
            watcher.close = False
            watcher.subscribe_thread.start()
            watcher.subscribe_event.wait(timeout=5)
            self._watcher = watcher
        except Exception as exc:
            log.warning("policy notifications unavailable (%s)", type(exc).__name__)
            return
        while not self._stopped.is_set():
            try:
                up = not watcher.should_reload(recreate=not self._stopped.is_set())
            except Exception:
                up = False
            if up != self.available:
                self.available = up
                if up:
                    log.info("policy notifications from Redis are arriving")
                else:
                    log.warning(
                        "policy notifications from Redis are not arriving; each process "
                        "relies on its version check (within half a second)"
                    )
            self._stopped.wait(SUPERVISE_EVERY_SECONDS)

    def publish(self) -> bool:
        watcher = self._watcher
        if watcher is None:
            return _publish_once(self.url, self.channel)
        return _bounded(watcher.update)

    def stop(self) -> None:
        self._stopped.set()
        watcher = self._watcher
        if watcher is not None:
            for client in (watcher.sub_client, watcher.pub_client):
                try:
                    if client is not None:
                        client.close()
                except Exception:  # noqa: S110  # closing a dead connection: nothing to do
                    pass
        self._thread.join(timeout=2)


def _bounded(publish: Callable[[], object], quiet: bool = False) -> bool:
    """Runs one publish, waiting for it at most PUBLISH_WAIT_SECONDS; True if it went out."""
    outcome: list[object] = []

    def _go() -> None:
        try:
            outcome.append(publish())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=_go, name="policy-announce", daemon=True)
    thread.start()
    thread.join(PUBLISH_WAIT_SECONDS)
    # redis-watcher answers None when it could not publish (it has printed why).
    sent = bool(outcome) and isinstance(outcome[0], int)
    if not sent and not quiet:
        log.warning(
            "could not announce the policy release through Redis; every process will find it "
            "by its version check within half a second"
        )
    return sent


_publishers: dict[tuple[str, str], Any] = {}


def _publisher(url: str, channel: str) -> Any:
    """A publish-only watcher for the channel, connected once and kept (None if it cannot be
    made within PUBLISH_WAIT_SECONDS)."""
    key = (url, channel)
    if key not in _publishers:

        def _make() -> object:
            watcher = _watcher_class()(url)
            watcher.init_config(_options(channel, _ignore))  # publishes only, hears nothing
            watcher.init_publisher_subscriber(init_sub=False)
            _publishers[key] = watcher
            return 0

        _bounded(_make, quiet=True)
    return _publishers.get(key)


def _publish_once(url: str, channel: str) -> bool:
    watcher = _publisher(url, channel)
    if watcher is None:
        return _bounded(lambda: None)  # says why it could not
    return _bounded(watcher.update)


# --- the process's one watcher ------------------------------------------------------------------

_running: dict[str, PolicyWatcher] = {}
_lock = threading.Lock()


def start_watching(engine: Engine, on_release: Callable[[], None]) -> PolicyWatcher | None:
    """Subscribes this process to the database's release channel, if HUB_REDIS_URL is set.
    Returns at once: connecting happens on the watcher's own thread."""
    url = get_settings().redis_url
    if not url:
        return None
    channel = _channel(engine)
    with _lock:
        running = _running.get(channel)
        if running is None:
            running = _running[channel] = PolicyWatcher(url, channel, on_release).start()
    return running


def stop_watching(watcher: PolicyWatcher | None) -> None:
    if watcher is None:
        return
    with _lock:
        if _running.get(watcher.channel) is watcher:
            del _running[watcher.channel]
    watcher.stop()


def prepare_announcement(engine: Engine) -> None:
    """Connects to Redis ahead of a release, so that the announcement leaves the moment the
    release commits (importing and connecting can take a good part of a second)."""
    url = get_settings().redis_url
    if url and _channel(engine) not in _running:
        _publisher(url, _channel(engine))


def announce_release(engine: Engine) -> bool:
    """Tells the other processes on this database that a policy was released (best effort:
    they find it by their version check anyway). False when it could not be sent or Redis is
    not configured."""
    url = get_settings().redis_url
    if not url:
        return False
    channel = _channel(engine)
    running = _running.get(channel)
    if running is not None:
        return running.publish()
    return _publish_once(url, channel)
