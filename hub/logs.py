"""The server's own log lines (uvicorn's and the hub's): never an exception's message.

An exception's message can carry the values it was given: a database error quotes the row it
refused, a validation error the text it was sent. Those can be personal data, which must not
reach application logs. A traceback keeps its frames (file, line, function) and the exception's
type, which is what an operator needs to find the fault; the message is withheld.
"""

import copy
import logging
import re
import traceback
from types import TracebackType
from typing import Any

from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter, DefaultFormatter

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def traceback_without_message(info: ExcInfo | tuple[None, None, None]) -> str:
    exc_type, _, tb = info
    if exc_type is None:
        return ""
    frames = "".join(traceback.format_tb(tb))
    name = f"{exc_type.__module__}.{exc_type.__qualname__}"
    return f"Traceback (most recent call last):\n{frames}{name} (message withheld)"


class _WithheldMessages(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return traceback_without_message(ei)


class ServerLogFormatter(_WithheldMessages, DefaultFormatter):
    """uvicorn's server lines (and the hub's), tracebacks without messages."""


# An enrolment link's token is a one-time secret (hub.accounts.rules.ENROLMENT_PATH): whoever
# reads the access log must not be able to enrol in the new user's place.
_ENROLMENT_TOKEN = re.compile(r"(/sign-in/welcome/)[^/?#\s]+")


class AccessLogFormatter(_WithheldMessages, AccessFormatter):
    """uvicorn's access lines, tracebacks without messages, enrolment tokens withheld."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            record = copy.copy(record)
            path = _ENROLMENT_TOKEN.sub(r"\1(withheld)", str(args[2]))
            record.args = (args[0], args[1], path, args[3], args[4])
        return super().formatMessage(record)


def logging_config() -> dict[str, Any]:
    """uvicorn's own configuration with the formatters above, and the hub's logger (INFO and
    up) on the same handler as uvicorn's messages."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.ServerLogFormatter"
    config["formatters"]["access"]["()"] = f"{__name__}.AccessLogFormatter"
    config["loggers"]["hub"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
