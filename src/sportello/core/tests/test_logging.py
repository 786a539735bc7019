import json
import logging

from sportello.core.logging import JsonFormatter


def test_each_log_event_is_one_json_line_with_its_extra_fields():
    record = logging.LogRecord(
        "sportello.mail", logging.WARNING, __file__, 1, "quarantined %s", ("a message",), None
    )
    record.mailbox = "assistenza"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["level"] == "WARNING"
    assert event["logger"] == "sportello.mail"
    assert event["message"] == "quarantined a message"
    assert event["mailbox"] == "assistenza"


def test_exceptions_stay_on_the_same_line():
    try:
        raise ValueError("broken\nmultiline")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError" in json.loads(line)["exception"]
