"""Logging to the console and `LOG_FILE`: every line carries the request id and session id
(from context variables), and configured secrets are masked before anything is written."""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
session_id_var: ContextVar[str] = ContextVar("session_id", default="-")

FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s session=%(session_id)s] %(message)s"
)
_HANDLER_MARK = "_agent_session_handler"


class ContextFilter(logging.Filter):
    """Adds the ids to each record and masks secrets in its final message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.session_id = session_id_var.get()
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in self._secrets:
                    text = text.replace(secret, "***")
                record.exc_text = text
        return True


def configure_logging(level: str, log_file: str | None, secrets: list[str]) -> None:
    """(Re)configure the root logger; idempotent, so building several apps in one process
    (tests) does not stack handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    context = ContextFilter(secrets)
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(context)
        root.addHandler(handler)
    root.setLevel(level)
