"""The hub behind Debian's nginx (issue 18, item 4), as deploy/ configures it: nginx runs the
rendered deploy/nginx/diversion-hub.conf.template on loopback with a certificate made here, in
front of a real `hub serve`. The client comes from 127.0.0.2, nginx from 127.0.0.1, so the test
can tell the client's address from the proxy's.

With CI=true a missing nginx fails the run (scripts/install --test installs it)."""

import http.client
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import col, select

from bench.hubserver import HubServer, hub_environment
from hub.accounts.models import SignInAttempt
from hub.settings import PROJECT_ROOT
from tests.certificates import free_port, self_signed
from tests.conftest import missing
from tests.factories import PASSWORD
from tests.signing_in import csrf_of

pytestmark = pytest.mark.slow

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "diversion-hub.conf.template"
CLIENT = "127.0.0.2"  # the visitor
STRANGER = "127.0.0.3"  # reaches the hub's port directly, not through nginx
SPOOFED = "203.0.113.9"


def render_template(values: dict[str, str]) -> str:
    """What `envsubst '${HUB_PROXY_...}'` does: only the listed names, nginx's own $vars kept."""
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    assert "${HUB_PROXY_" not in text, "a placeholder of the template was not filled in"
    return text


@dataclass
class Proxy:
    https_port: int
    http_port: int
    hub_port: int
    certificate: Path


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {log.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("nginx did not listen within 10 s")


@pytest.fixture
def nginx(tmp_path: Path, hub_port: int) -> Iterator[Proxy]:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        missing("nginx is not installed (scripts/install --test installs Debian's nginx)")
    assert binary is not None
    certificate, key = self_signed(tmp_path)
    https_port, http_port = free_port(), free_port()
    site = tmp_path / "diversion-hub.conf"
    site.write_text(
        render_template(
            {
                "HUB_PROXY_SERVER_NAME": "localhost",
                "HUB_PROXY_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
                "HUB_PROXY_HTTP_LISTEN": f"127.0.0.1:{http_port}",
                "HUB_PROXY_CERTIFICATE": str(certificate),
                "HUB_PROXY_CERTIFICATE_KEY": str(key),
                "HUB_PROXY_UPSTREAM": f"127.0.0.1:{hub_port}",
            }
        ).replace("/var/log/nginx/", f"{tmp_path}/")
    )
    # The main file Debian ships (/etc/nginx/nginx.conf) holds the site in its http block;
    # this one does the same with every path in the test's own directory.
    temporary = "\n".join(
        f"  {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n{temporary}\n  include {site};\n}}\n"
    )
    log = tmp_path / "error.log"
    command = [binary, "-p", str(tmp_path), "-e", str(log), "-c", str(main)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(https_port, process, log)
        yield Proxy(https_port, http_port, hub_port, certificate)
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def hub_port() -> int:
    return free_port()


@pytest.fixture
def hub_server(database_url: str, hub_port: int, tmp_path: Path) -> Iterator[HubServer]:
    env = hub_environment(database_url, HUB_TRUSTED_PROXIES="127.0.0.1")
    env["HUB_COOKIE_SECURE"] = "true"  # production cookies: the proxy is in front
    with HubServer(env, hub_port, workers=1, log_path=tmp_path / "hub.log") as server:
        yield server


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    text: str

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def ask(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> Answer:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return Answer(response.status, response.getheaders(), response.read().decode(errors="replace"))


def through_proxy(proxy: Proxy) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=str(proxy.certificate))
    return http.client.HTTPSConnection(
        "127.0.0.1", proxy.https_port, context=context, source_address=(CLIENT, 0), timeout=30
    )


def sign_in_form(connection: http.client.HTTPConnection, email: str, password: str) -> Answer:
    """The sign-in page, then its form posted; the client's own X-Forwarded-For on both."""
    spoof = {"X-Forwarded-For": SPOOFED}
    page = ask(connection, "GET", "/sign-in", spoof)
    cookie = page.all("set-cookie")[0].split(";", 1)[0]
    form = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": csrf_of(page)}
    )
    return ask(
        connection,
        "POST",
        "/sign-in",
        {**spoof, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        form,
    )


# The proxy owes nothing to the database: one backend is enough.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_hub_behind_nginx(db, factories, hub_server, nginx):
    user = factories.User()
    db.commit()
    with closing(through_proxy(nginx)) as connection:
        # HTTPS works and every answer carries one HSTS header.
        page = ask(connection, "GET", "/sign-in")
        assert page.status == 200
        assert page.all("strict-transport-security") == ["max-age=63072000; includeSubDomains"]

        # The password step starts a half session: the cookie is __Host-, Secure, HttpOnly.
        signed = sign_in_form(connection, user.email, PASSWORD)
        assert signed.status == 303, signed.text
        cookie = next(c for c in signed.all("set-cookie") if c.startswith("__Host-hub_session="))
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"secure", "httponly", "path=/", "samesite=strict"} <= attributes
        assert not any(part.startswith("domain=") for part in attributes)

        # A request larger than the proxy allows is refused before it reaches the hub.
        connection.putrequest("POST", "/sign-in")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(2 * 1024 * 1024))
        connection.endheaders()
        too_big = connection.getresponse()
        too_big.read()
        assert too_big.status == 413
        assert too_big.getheader("strict-transport-security")

    # Plain HTTP only redirects to HTTPS.
    with closing(http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)) as plain:
        redirect = ask(plain, "GET", "/sign-in")
        assert redirect.status == 301
        assert redirect.all("location")[0].startswith("https://")

    # The client's own X-Forwarded-For was dropped by nginx, which named the real client; a
    # stranger who reaches the hub's port directly cannot name an address either.
    direct = http.client.HTTPConnection(
        "127.0.0.1", nginx.hub_port, source_address=(STRANGER, 0), timeout=30
    )
    with closing(direct):
        assert sign_in_form(direct, user.email, "not the password").status == 401
    addresses = db.exec(select(SignInAttempt.address).order_by(col(SignInAttempt.id))).all()
    db.commit()
    assert addresses == [CLIENT, STRANGER]
