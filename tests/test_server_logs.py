"""The server's log never carries an exception's message (hub.logs): it may quote personal
data (a refused row, a sent value). The type and the frames stay, for the operator."""

import logging
import sys


def _raise_with_personal_data(name: str = "Jane Quinn", born: str = "1990-04-01") -> None:
    # The frame's source line shows code, as in the hub; the values come only in the message.
    raise ValueError(f"{name}, born {born}")


def _formatted_by(formatter: logging.Formatter) -> str:
    try:
        _raise_with_personal_data()
    except ValueError:
        info = sys.exc_info()
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None, info
    )
    return formatter.format(record)


def test_a_logged_exception_keeps_its_type_and_frames_and_loses_its_message() -> None:
    from hub.logs import ServerLogFormatter

    text = _formatted_by(ServerLogFormatter(fmt="%(levelprefix)s %(message)s"))
    assert "Exception in ASGI application" in text
    assert "_raise_with_personal_data" in text
    assert text.endswith("builtins.ValueError (message withheld)")
    assert "Jane" not in text and "1990" not in text


def test_serve_logs_through_it() -> None:
    import inspect

    from hub import cli
    from hub.logs import logging_config

    config = logging_config()
    assert config["formatters"]["default"]["()"] == "hub.logs.ServerLogFormatter"
    assert config["formatters"]["access"]["()"] == "hub.logs.AccessLogFormatter"
    assert config["loggers"]["hub"]["handlers"] == ["default"]
    assert "log_config=logging_config()" in inspect.getsource(cli.serve_command)


def test_the_access_log_withholds_an_enrolment_links_token() -> None:
    # Issue 12: the link is a one-time secret; a log reader must not enrol in the person's place.
    from hub.logs import AccessLogFormatter

    formatter = AccessLogFormatter(fmt="%(client_addr)s - %(request_line)s %(status_code)s")
    args = ("10.0.0.9:5000", "GET", "/sign-in/welcome/s3cr3t-T0ken_x", "1.1", 200)
    message = '%s - "%s %s HTTP/%s" %d'  # uvicorn's access message
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args, None)
    line = formatter.format(record)
    assert "s3cr3t" not in line
    assert "GET /sign-in/welcome/(withheld) HTTP/1.1" in line
