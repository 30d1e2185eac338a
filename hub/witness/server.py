"""`hub witness serve`: the witness over plain HTTP (http.server, standard library only), so
an office can run it on its own machine without the hub's dependencies on a database.

    POST /add-checkpoint                  c2sp.org/tlog-witness
    GET  /<sha256 hex of origin>/checkpoint   the newest cosigned checkpoint (monitors)
"""

import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hub.witness.service import Answer, Witness

log = logging.getLogger("hub.witness")

MAX_BODY = 64 * 1024  # old line, at most 63 proof lines and a checkpoint: a few kilobytes
_LATEST = re.compile(r"^/([0-9a-f]{64})/checkpoint$")


class _Handler(BaseHTTPRequestHandler):
    server: "WitnessServer"
    protocol_version = "HTTP/1.1"  # keep-alive, as tlog-witness recommends

    def do_POST(self) -> None:
        if self.path != "/add-checkpoint":
            self._answer(Answer(404, "not found\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._answer(Answer(411, "Content-Length is required\n"))
            return
        if not 0 <= length <= MAX_BODY:
            self._answer(Answer(413, "the request is too large\n"))
            return
        answer = self.server.witness.add_checkpoint(self.rfile.read(length))
        # A checkpoint holds no personal data; the first line of the answer says why.
        log.info("add-checkpoint: %d %s", answer.status, answer.body.split("\n", 1)[0][:120])
        self._answer(answer)

    def do_GET(self) -> None:
        match = _LATEST.match(self.path)
        self._answer(
            self.server.witness.latest(match.group(1)) if match else Answer(404, "not found\n")
        )

    def _answer(self, answer: Answer) -> None:
        body = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per add-checkpoint above is enough; no client addresses kept


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, witness: Witness, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.witness = witness
