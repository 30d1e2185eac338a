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
