"""A real OpenID provider for the sign-in tests: npm's oidc-provider (tests/oidc_provider/),
started with node on a free loopback port, and the steps a browser takes through it.

- `start_provider` writes the provider's config (its clients, a fresh RSA signing key, the
  test accounts with email_verified and amr) and starts `node provider.js`; `npm ci` installs
  oidc-provider from the lock file first when node_modules is missing. No node or npm: the
  test is skipped with the reason (with CI=true it fails, tests.conftest.missing).
- `OpenIdProvider.restart(new_key=True)` rotates the signing key; `stop()` takes it down.
- `through_provider` follows the provider's redirects (its interactions complete by
  themselves) until it sends the browser back to the hub's callback.
"""

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
from joserfc.jwk import RSAKey

from hub.settings import PROJECT_ROOT

PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc_provider"
CLIENT_ID = "diversion-hub-prosecutor"
CLIENT_SECRET = "test-only-client-secret-0123456789abcdef"
CALLBACK = "/sign-in/oidc/callback"
_START_LIMIT_SECONDS = 30.0

# The provider's accounts: the subject is the key. `amr` is what its sign-in says was used.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "prosecutor-sub": {
        "email": "prosecutor1@salish-prosecutor.example",
        "email_verified": True,
        "amr": ["pwd", "mfa", "otp"],
    },
    "password-only-sub": {
        "email": "prosecutor1@salish-prosecutor.example",
        "email_verified": True,
        "amr": ["pwd"],
    },
    "stranger-sub": {
        "email": "stranger@salish-prosecutor.example",
        "email_verified": True,
        "amr": ["pwd", "mfa"],
    },
    "unverified-sub": {
        "email": "prosecutor1@salish-prosecutor.example",
        "email_verified": False,
        "amr": ["pwd", "mfa"],
    },
}


def _missing(reason: str) -> None:
    from tests.conftest import missing

    missing(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("node and npm are needed for the test OpenID provider")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"],
            cwd=PROVIDER_DIR,
            check=True,
            timeout=300,
        )


def new_signing_key() -> dict[str, Any]:
    kid = f"key-{time.monotonic_ns()}"
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
    return dict(key.as_dict(private=True))


@dataclass
class OpenIdProvider:
    hub_urls: list[str]
    directory: Path
    port: int = field(default_factory=_free_port)
    key: dict[str, Any] = field(default_factory=new_signing_key)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "issuer": self.issuer,
            "jwks": {"keys": [self.key]},
            "default_account": "prosecutor-sub",
            "accounts": ACCOUNTS,
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [url + CALLBACK for url in self.hub_urls],
                    "post_logout_redirect_uris": [url + "/sign-in" for url in self.hub_urls],
                    "backchannel_logout_uri": self.hub_urls[-1]
                    + "/sign-in/oidc/backchannel-logout",
                    "backchannel_logout_session_required": True,
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            ],
        }

    def start(self) -> "OpenIdProvider":
        _install()
        config = self.directory / "provider.json"
        config.write_text(json.dumps(self._config()))
        with (self.directory / "provider.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["node", str(PROVIDER_DIR / "provider.js"), str(config)],
                cwd=PROVIDER_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + _START_LIMIT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited; see {self.directory}/provider.log")
            try:
                httpx2.get(self.issuer + "/.well-known/openid-configuration", timeout=1)
                return self
            except httpx2.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the OpenID provider did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self, *, new_key: bool = False) -> None:
        """Stops and starts again on the same port; with new_key, signing with a new key only
        (a rotation: the old key is gone from the JWKS)."""
        self.stop()
        if new_key:
            self.key = new_signing_key()
        self.start()

    def use_account(self, subject: str) -> None:
        """Who the next sign-in at the provider is (interactions complete by themselves)."""
        httpx2.get(f"{self.issuer}/__test/account/{subject}", timeout=5).raise_for_status()

    def logout_token(self, subject: str, sid: str | None) -> str:
        params = {"client_id": CLIENT_ID, "sub": subject, **({"sid": sid} if sid else {})}
        answer = httpx2.get(f"{self.issuer}/__test/logout-token", params=params, timeout=5)
        answer.raise_for_status()
        return str(answer.json()["logout_token"])

    def send_backchannel_logout(self, subject: str, sid: str | None) -> None:
        """The provider itself posts a logout token to the hub (its backchannel_logout_uri)."""
        params = {"client_id": CLIENT_ID, "sub": subject, **({"sid": sid} if sid else {})}
        answer = httpx2.post(f"{self.issuer}/__test/backchannel-logout", params=params, timeout=10)
        assert answer.status_code == 200, answer.text


def start_provider(directory: Path, hub_urls: list[str]) -> OpenIdProvider:
    return OpenIdProvider(hub_urls=hub_urls, directory=directory).start()


def through_provider(authorization_url: str, hub_url: str) -> str:
    """Follows the provider from its authorization URL until it redirects back to the hub;
    returns the hub callback's path and query (code and state)."""
    with httpx2.Client(timeout=10) as browser:
        url = authorization_url
        for _ in range(20):
            answer = browser.get(url)
            location = answer.headers.get("location")
            if answer.status_code not in (302, 303) or location is None:
                raise AssertionError(
                    f"the provider stopped at {answer.status_code}: {answer.text[:300]}"
                )
            url = str(answer.url.join(location))
            if url.startswith(hub_url + CALLBACK):
                parts = urlsplit(url)
                return f"{parts.path}?{parts.query}"
    raise AssertionError("the provider never sent the browser back to the hub")
