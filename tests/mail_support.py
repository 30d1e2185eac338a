"""A real SMTP server on loopback for the mail tests (aiosmtpd): STARTTLS with a self-signed
certificate made for the test, a login, and a list of what it received."""

import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
RELAY_LOGIN = "hub-mailer"
RELAY_PASSWORD = "a mail relay password"


@dataclass
class Received:
    message: EmailMessage
    recipients: list[str]
    over_tls: bool
    logged_in: bool


@dataclass
class MailServer:
    """Down until start(); then it requires STARTTLS and a login before it takes mail."""

    port: int
    cert: Path
    key: Path
    received: list[Received] = field(default_factory=list)
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                message=message_from_bytes(envelope.content, policy=policy.default),
                recipients=list(envelope.rcpt_tos),
                over_tls=session.ssl is not None,
                logged_in=session.authenticated,
            )
        )
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data == (
            RELAY_LOGIN.encode(),
            RELAY_PASSWORD.encode(),
        )
        return AuthResult(success=ok)

    def start(self) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, self.key)
        self._controller = Controller(
            self,
            hostname=HOST,
            port=self.port,
            tls_context=tls,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_required=True,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
