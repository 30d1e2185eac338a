"""A work-group morning at the hub, for locust: every role signs in and does its day.

Run by bench/load/run.py (which builds the data, starts the server and prints the table), or by
hand against a running hub:

    HUB_LOAD_ACCOUNTS=accounts.json locust -f bench/load/locustfile.py --headless \
        --host http://127.0.0.1:8300 -u 32 -r 8 -t 30s

Environment:
  HUB_LOAD_ACCOUNTS  JSON list of accounts (`hub demo --accounts-json`): role, email,
                     password, totp_secret. Required for the mixed day, not for the bare phase.
  HUB_LOAD_PHASE     "mixed" (default): the roles below; "bare": only BareUser, which asks the
                     bare endpoint (/healthz/page) and nothing else.
  HUB_LOAD_JOURNAL   a file to append the journal to (below); none when unset.
  HUB_LOAD_STATE     a directory the users of every locust process share to hand out accounts
                     (default: a directory under /tmp named after the host's port).
  HUB_LOAD_THINK     seconds each user waits between tasks (default 0: 32 users are 32
                     connections kept busy, which is what the targets are stated for).
  HUB_LOAD_DURATION  seconds to measure once every user has signed in; then locust stops. The
                     statistics are reset when the last user is ready, so sign-in (argon2 by
                     design) is not in the figures. Unset: locust's own -t decides.
  HUB_LOAD_STATS     a file to write the measured window's figures to (JSON, per page).
  HUB_LOAD_SERVER_PID  the server's process id: its CPU (and its workers') over the window.

Accounts. A TOTP code cannot be used twice within its window, so each account signs in once,
as the first user given it; when there are more users of a role than accounts, the later users
share a signed-in session (its cookie) instead of signing in again or waiting 30 s for the next
code. Which user signs in is settled with a claim file (O_EXCL) in HUB_LOAD_STATE, so this holds
across `locust --processes`.

The journal: one JSON line per response, appended with a single write (lines from several
processes do not interleave):

    {"request_id": "<the response's X-Request-ID>",
     "page": "<the request's name, as in the table: record, agenda, queue, ...>",
     "method": "GET" | "POST",
     "status": 200,
     "discloses": true,   # the response carries client data, so the hub must have logged a
                          # disclosure (or a console read) under this request id
     "write": null | {"kind": "case_note" | "charging_decision",
                      "marker": "<a unique string this task put in the note's text>"},
                  # set only when the hub answered the write as done (303): the row exists
                  # once the transaction committed; a refused write (400) journals null
     "at": "<wall time, ISO 8601 UTC>"}

A write's request is sent without following its redirect, so its request id is the id of the
request that wrote; the page it leads to is a request (and a line) of its own. The marker is in
case_note.body (sealed at rest: open it with hub.crypto under the run's HUB_DATA_KEYS) or in
charging_decision.note (plain); the write's log entry carries the same request id.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
import psutil
import pyotp
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

FORM = "application/x-www-form-urlencoded"
SESSION_COOKIE = "hub_session"  # HUB_COOKIE_SECURE=false: plain HTTP on 127.0.0.1

# Pages whose 200 answer carries client data (and so a disclosure entry in the log). The live
# agenda's 204 ("nothing changed") carries none and logs nothing. Not here, because they show no
# client data and the hub logs nothing for them (bench/crash.py checks every page listed): the
# decision form and page (the prosecutor's own decision, the office's matter number, the seq
# and categories of the log entries it binds) and the accounting's date form.
DISCLOSING_PAGES = frozenset(
    {
        "record",
        "section",
        "notes",
        "search",
        "matter",
        "console",
        "console:search",
        "console:pick",
        "feedback",
    }
)
# Pages that carry client data only when they list someone: an empty queue ("Nothing awaits a
# decision"), no decisions on a defender's clients, an agenda of business items only or still
# empty disclose nothing and log nothing. Each is known by what a listed client brings.
DISCLOSING_WHEN_LISTED = {
    "agenda": 'data-person="',  # a client item's record (workgroup/_record.html)
    "live": 'data-person="',
    "minutes": 'data-person="',
    "queue": 'href="/charging/matters/',
    "defense": 'href="/clients/',
}


def discloses(name: str, status: int, response: Any) -> bool:
    if status != 200:
        return False
    if name in DISCLOSING_WHEN_LISTED:
        return DISCLOSING_WHEN_LISTED[name] in (getattr(response, "text", None) or "")
    return name in DISCLOSING_PAGES


# Fragments of names to search for: a person types a few letters of a surname.
NAME_FRAGMENTS = ("son", "ar", "an", "el", "ma", "ri", "le", "ne", "ch", "or", "in", "ta")

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- the journal ---------------------------------------------------------------------------

_journal_fd: int | None = None


def _journal() -> int | None:
    global _journal_fd
    path = os.environ.get("HUB_LOAD_JOURNAL")
    if path and _journal_fd is None:
        _journal_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return _journal_fd


@events.request.add_listener
def _journal_line(
    request_type: str,
    name: str,
    response: Any,
    context: dict[str, Any],
    exception: BaseException | None,
    **_: Any,
) -> None:
    fd = _journal()
    if fd is None:
        return
    status = getattr(response, "status_code", 0) or 0
    headers = getattr(response, "headers", None) or {}
    line = {
        "request_id": headers.get("x-request-id") if headers else None,
        "page": name,
        "method": request_type,
        "status": status,
        "discloses": discloses(name, status, response),
        "write": context.get("write"),
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    os.write(fd, (json.dumps(line) + "\n").encode())


# --- accounts ----------------------------------------------------------------------------


def _accounts() -> list[dict[str, str]]:
    path = os.environ.get("HUB_LOAD_ACCOUNTS")
    return json.loads(Path(path).read_text()) if path else []


def _state_dir(host: str) -> Path:
    default = Path("/tmp") / f"hub-load-{host.rsplit(':', 1)[-1]}"  # bench only
    path = Path(os.environ.get("HUB_LOAD_STATE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _claim(state: Path, role: str, accounts: list[dict[str, str]]) -> tuple[dict[str, str], bool]:
    """An account of `role` for one user, and whether this user is the one to sign it in."""
    mine = [a for a in accounts if a["role"] == role]
    if not mine:
        raise RuntimeError(f"no {role} account to sign in with")
    for account in mine:
        try:
            os.close(os.open(state / f"claim-{account['email']}", os.O_CREAT | os.O_EXCL))
            return account, True
        except FileExistsError:
            continue
    return random.choice(mine), False


def _shared_cookie(state: Path, email: str, timeout: float = 120) -> str:
    """The session cookie the account's first user signed in with (waits for it)."""
    path = state / f"session-{email}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (value := path.read_text().strip()):
            return value
        time.sleep(0.2)
    raise RuntimeError(f"{email} was not signed in within {timeout} s")


def _marker(kind: str) -> str:
    return f"load-{kind}-{uuid.uuid4().hex}"


def _links(html: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(rf'href="({pattern})"', html)))


# --- the users ----------------------------------------------------------------------------


class HubUser(FastHttpUser):
    """Signs in (password, then TOTP) once, as its own account or on a shared session."""

    abstract = True
    role = ""
    wait_time = constant(float(os.environ.get("HUB_LOAD_THINK", "0")))

    def on_start(self) -> None:
        try:
            self._start()
        finally:
            _READY.append(self)

    def _start(self) -> None:
        self.cookie_header: dict[str, str] = {}
        state = _state_dir(self.host)
        account, signs_in = _claim(state, self.role, _accounts())
        if signs_in:
            self._sign_in(account)
            cookie = next(c.value for c in self.client.cookiejar if c.name == SESSION_COOKIE)
            descriptor = os.open(
                state / f"session-{account['email']}", os.O_WRONLY | os.O_CREAT, 0o600
            )
            with os.fdopen(descriptor, "w") as handle:
                handle.write(cookie or "")
        else:
            cookie = _shared_cookie(state, account["email"])
            self.cookie_header = {"Cookie": f"{SESSION_COOKIE}={cookie}"}

    def _sign_in(self, account: dict[str, str]) -> None:
        form = self.client.get("/sign-in", name="sign-in form")
        self.client.post(
            "/sign-in",
            name="sign-in",
            data={
                "email": account["email"],
                "password": account["password"],
                "csrf_token": _csrf(form.text),
            },
            allow_redirects=False,
        )
        form = self.client.get("/sign-in/second-factor", name="second-factor form")
        with self.client.post(
            "/sign-in/second-factor",
            name="second-factor",
            data={"code": pyotp.TOTP(account["totp_secret"]).now(), "csrf_token": _csrf(form.text)},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 303:
                response.failure(f"second factor refused ({response.status_code})")
                raise RuntimeError(f"{account['email']} could not sign in")

    def page(self, path: str, name: str, **kwargs: Any) -> Any:
        with self.client.get(
            path,
            name=name,
            headers=self.cookie_header,
            allow_redirects=False,
            catch_response=True,
            **kwargs,
        ) as response:
            # A page that sends us to /sign-in lost its session: that is an error here.
            if response.status_code in (200, 204):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
            return response

    def post(
        self,
        path: str,
        name: str,
        data: dict[str, Any],
        expect: int,
        write: dict[str, str] | None = None,
        conflicts: tuple[str, ...] = (),
    ) -> Any:
        """A form sent as a browser sends it. `write` goes to the journal only if the hub
        answered `expect` (the row exists); `conflicts` are refusals that two users acting on
        the same thing at once should get (not errors of the load)."""
        context: dict[str, Any] = {"write": write}
        # Encoded here: a list (several reason codes) is a repeated field, as a browser sends it.
        with self.client.post(
            path,
            name=name,
            data=urlencode(data, doseq=True),
            headers={**self.cookie_header, "Content-Type": FORM},
            allow_redirects=False,
            catch_response=True,
            context=context,
        ) as response:
            said = re.search(r'class="error"[^>]*>([^<]+)<', response.text or "")
            message = said.group(1).strip() if said else ""
            if response.status_code == expect:
                response.success()
            else:
                # locust hands the listener its own copy of the context
                response.request_meta["context"]["write"] = None
                if message and any(c in message for c in conflicts):
                    response.success()
                else:
                    response.failure(
                        f"HTTP {response.status_code}, expected {expect}"
                        + (f": {message}" if message else "")
                    )
            return response

    # What every member does in the morning: the agenda of the next meeting, and its live poll.
    def read_agenda(self, polls: int = 2) -> None:
        index = self.page("/work-group", "work-group")
        meetings = re.findall(r'<tr data-meeting="(\d+)">', index.text or "")
        if not meetings:
            return
        # The list is newest first: the first row is the next meeting.
        meeting = meetings[0]
        agenda = self.page(f"/work-group/meetings/{meeting}", "agenda")
        since = re.search(rf"/work-group/meetings/{meeting}/live\?since=(\d+)", agenda.text or "")
        for _ in range(polls if since else 0):
            self.page(f"/work-group/meetings/{meeting}/live?since={since.group(1)}", "live")  # type: ignore[union-attr]

    def search(self) -> None:
        form = self.page("/clients/search", "search form")
        self.post(
            "/clients/search",
            "search",
            {"csrf_token": _csrf(form.text), "name": random.choice(NAME_FRAGMENTS)},
            200,
        )

    def read_record(self, person_path: str) -> str:
        record = self.page(person_path, "record")
        sections = _links(record.text or "", rf"{person_path}/sections/[a-z_]+")
        if sections:
            self.page(random.choice(sections), "section")
        return record.text or ""


def _csrf(html: str | None) -> str:
    found = _CSRF.search(html or "")
    return found.group(1) if found else ""


class Coordinator(HubUser):
    """Runs the meeting: the agenda, its live view, the home page."""

    role = "coordinator"
    weight = 2

    @task(4)
    def agenda(self) -> None:
        self.read_agenda(polls=4)

    @task(1)
    def home(self) -> None:
        self.page("/", "home")


class CaseManager(HubUser):
    """Works the caseload: referrals in intake, client records, notes; searches."""

    role = "case_manager"
    weight = 8

    @task(5)
    def caseload(self) -> None:
        intake = self.page("/intake", "intake")
        referrals = _links(intake.text or "", r"/referrals/\d+")
        if not referrals:
            return
        referral = self.page(random.choice(referrals), "referral")
        clients = _links(referral.text or "", r"/clients/\d+")
        if not clients:
            return
        person = clients[0]
        self.read_record(person)
        if random.random() < 0.5:
            self.add_note(person)

    def add_note(self, person: str) -> None:
        notes = self.page(f"{person}/notes", "notes")
        categories = re.findall(r'<option value="([a-z_]+)"', notes.text or "")
        if not categories:
            return
        marker = _marker("note")
        self.post(
            f"{person}/notes",
            "note",
            {
                "csrf_token": _csrf(notes.text),
                "category": random.choice(categories),
                "body": f"Met at the drop-in; follow-up next week. ({marker})",
            },
            303,
            write={"kind": "case_note", "marker": marker},
        )

    @task(2)
    def search_clients(self) -> None:
        self.search()

    @task(2)
    def agenda(self) -> None:
        self.read_agenda()


class Supervisor(CaseManager):
    role = "case_manager_supervisor"
    weight = 1


class Prosecutor(HubUser):
    """Works the charging queue: matters, the disclosures behind them, decisions."""

    role = "prosecutor"
    weight = 5

    @task(5)
    def queue(self) -> None:
        queue = self.page("/charging", "queue")
        matters = _links(queue.text or "", r"/charging/matters/\d+")
        if not matters:
            return
        matter_path = random.choice(matters)
        matter = self.page(matter_path, "matter")
        if random.random() < 0.4:
            self.decide(matter_path, matter.text or "")

    def decide(self, matter_path: str, matter_html: str) -> None:
        # A first decision, or the correction of the standing one (a decision is never changed):
        # the newest decision's page offers the correction.
        form_path = f"{matter_path}/decide"
        decisions = re.findall(r'href="/charging/decisions/(\d+)"', matter_html)
        if decisions:
            newest = max(decisions, key=int)
            decision = self.page(f"/charging/decisions/{newest}", "decision")
            correct = _links(decision.text or "", r"/charging/decisions/\d+/correct")
            if not correct:
                return
            form_path = correct[0]
        form = self.page(form_path, "decide")
        html = form.text or ""
        outcome, reasons = _outcome_and_reasons(html)
        if outcome is None:
            return
        marker = _marker("decision")
        data: dict[str, Any] = {
            "csrf_token": _csrf(html),
            "outcome": outcome,
            "reason_codes": reasons,
            "note": f"Reviewed the file and the work group's updates. ({marker})",
        }
        supersedes = re.search(r'name="supersedes_id" value="(\d+)"', html)
        if supersedes:
            data["supersedes_id"] = supersedes.group(1)
        recorded = self.post(
            f"{matter_path}/decisions",
            "decision:record",
            data,
            303,
            write={"kind": "charging_decision", "marker": marker},
            # Two prosecutors of one office may correct the same matter at once; the second
            # is told to correct the newer decision (400), as it should be.
            conflicts=("already superseded", "a decision stands", "only the standing decision"),
        )
        location = recorded.headers.get("location") if recorded.headers else None
        if location:
            self.page(location, "decision")

    @task(2)
    def agenda(self) -> None:
        self.read_agenda()

    @task(1)
    def search_clients(self) -> None:
        self.search()


def _outcome_and_reasons(html: str) -> tuple[str | None, list[str]]:
    """An outcome and one reason the site's rules allow for it, read from the form."""
    reasons = re.findall(
        r'name="reason_codes" value="([^"]+)"[^>]*> [^<]*<span class="small">\(([^)]*)\)', html
    )
    outcomes = re.findall(r'name="outcome" value="([^"]+)"', html)
    random.shuffle(outcomes)
    for outcome in outcomes:
        fitting = [code for code, allowed in reasons if outcome in allowed.split(", ")]
        if fitting:
            return outcome, [random.choice(fitting)]
    return None, []


class Officer(HubUser):
    """Checks what became of their referrals (the feedback view); searches."""

    role = "officer"
    weight = 5

    @task(4)
    def referrals(self) -> None:
        mine = self.page("/referrals", "referrals")
        referrals = _links(mine.text or "", r"/referrals/\d+")
        if referrals:
            self.page(random.choice(referrals), "feedback")

    @task(1)
    def search_clients(self) -> None:
        self.search()

    @task(1)
    def agenda(self) -> None:
        self.read_agenda(polls=1)


class Sergeant(Officer):
    role = "sergeant"
    weight = 1


class Defender(HubUser):
    """Reads the decisions on their clients and the records behind them."""

    role = "defender"
    weight = 2

    @task(3)
    def decisions(self) -> None:
        defense = self.page("/defense", "defense")
        clients = _links(defense.text or "", r"/clients/\d+")
        if clients:
            self.read_record(random.choice(clients))

    @task(1)
    def agenda(self) -> None:
        self.read_agenda()


class PrivacyOfficer(HubUser):
    """Searches the console: the log by client and category, clients by name, an accounting."""

    role = "privacy_officer"
    weight = 1

    @task
    def console(self) -> None:
        console = self.page("/privacy", "console")
        html = console.text or ""
        token = _csrf(html)
        persons = re.findall(r'<option value="(\d+)"', html)
        self.post(
            "/privacy/log",
            "console:search",
            {"csrf_token": token, "category": random.choice(("legal", "housing", "identity"))},
            200,
        )
        self.post(
            "/privacy/pick",
            "console:pick",
            {"csrf_token": token, "query": random.choice(NAME_FRAGMENTS)},
            200,
        )
        people = re.findall(r'href="(/privacy/clients/\d+)"', html) or persons
        if people:
            person = random.choice(people)
            if person.isdigit():
                person = f"/privacy/clients/{person}"
            self.page(f"{person}/accounting", "accounting")


class BareUser(FastHttpUser):
    """The ceiling: a small template through the same app and middleware, no database."""

    abstract = os.environ.get("HUB_LOAD_PHASE", "mixed") != "bare"
    wait_time = constant(0)

    def on_start(self) -> None:
        _READY.append(self)

    @task
    def bare(self) -> None:
        self.client.get("/healthz/page", name="bare")


if os.environ.get("HUB_LOAD_PHASE", "mixed") == "bare":
    for _user in (Coordinator, CaseManager, Supervisor, Prosecutor, Officer, Sergeant):
        _user.abstract = True
    Defender.abstract = PrivacyOfficer.abstract = True


# --- the measured window ------------------------------------------------------------------

_READY: list[object] = []


@events.init.add_listener
def _measure_window(environment: Environment, **_: Any) -> None:
    duration = float(os.environ.get("HUB_LOAD_DURATION", "0") or 0)
    if duration > 0 and environment.runner is not None:
        gevent.spawn(_window, environment, duration)


def _window(environment: Environment, duration: float) -> None:
    runner = environment.runner
    assert runner is not None
    while runner.user_count == 0 or len(_READY) < runner.target_user_count:
        gevent.sleep(0.1)
    environment.stats.reset_all()
    client, machine = psutil.Process(), psutil.cpu_times()
    server = _server_processes()
    client_before = _cpu_seconds([client])
    server_before = _cpu_seconds(server)
    started = time.monotonic()
    gevent.sleep(duration)
    elapsed = time.monotonic() - started
    figures = _figures(environment, elapsed)
    busy_after = psutil.cpu_times()
    figures["cpu"] = {
        "client_cores": (_cpu_seconds([client]) - client_before) / elapsed,
        "server_cores": (_cpu_seconds(server) - server_before) / elapsed,
        "machine_busy": _busy_fraction(machine, busy_after),
        "cores": psutil.cpu_count(),
    }
    path = os.environ.get("HUB_LOAD_STATS")
    if path:
        Path(path).write_text(json.dumps(figures, indent=2))
    runner.quit()


def _figures(environment: Environment, elapsed: float) -> dict[str, Any]:
    pages = {}
    for (name, method), entry in environment.stats.entries.items():
        if not entry.num_requests:
            continue  # the sign-in pages, before the window
        pages[name] = {
            "method": method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.num_requests / elapsed,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "max_ms": entry.max_response_time,
        }
    total = environment.stats.total
    errors = [
        {"page": e.name, "method": e.method, "error": str(e.error), "count": e.occurrences}
        for e in environment.stats.errors.values()
    ]
    return {
        "seconds": elapsed,
        "users": environment.runner.user_count if environment.runner else 0,
        "pages": pages,
        "total": {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": total.num_requests / elapsed,
            "p50_ms": total.get_response_time_percentile(0.5),
            "p99_ms": total.get_response_time_percentile(0.99),
        },
        "errors": errors,
    }


def _server_processes() -> list[psutil.Process]:
    pid = os.environ.get("HUB_LOAD_SERVER_PID")
    if not pid:
        return []
    try:
        parent = psutil.Process(int(pid))
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def _busy_fraction(before: Any, after: Any) -> float:
    idle = (after.idle + getattr(after, "iowait", 0)) - (before.idle + getattr(before, "iowait", 0))
    spent = sum(after) - sum(before)
    return 1 - idle / spent if spent else 0.0
