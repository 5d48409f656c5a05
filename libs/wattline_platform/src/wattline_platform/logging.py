"""structlog JSON logging with a correlation id carried through HTTP and Kafka."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog

CORRELATION_HEADER = "X-Correlation-ID"

correlation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
causation_id_var: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "causation_id", default=None
)

# Keys whose values must never reach a log line (personal data and secrets).
_REDACTED_KEYS = frozenset(
    {"cpr", "cvr", "password", "token", "access_token", "api_key", "authorization", "secret"}
)


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in _REDACTED_KEYS:
            event_dict[key] = "***"
    return event_dict


def _add_correlation(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    cid = correlation_id_var.get()
    if cid is not None:
        event_dict.setdefault("correlation_id", cid)
    return event_dict


class _CurrentStdout:
    """``sys.stdout`` as it is when a line is written, not when logging was configured (a
    test runner or CLI harness may swap it and close the old one)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_STDOUT: Any = _CurrentStdout()


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Configure structlog (and stdlib logging) to write one JSON event per line to stdout."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_correlation,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=_STDOUT),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (uvicorn, aiokafka, asyncpg) log through stdlib: warnings and up, as JSON too.
    handler = logging.StreamHandler(_STDOUT)
    handler.setFormatter(_JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


class _JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "event": record.getMessage(),
            "logger": record.name,
            "level": record.levelname.lower(),
            "service": self.service,
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        }
        cid = correlation_id_var.get()
        if cid:
            doc["correlation_id"] = cid
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def new_correlation_id() -> str:
    """A fresh correlation id for work that starts here."""
    return uuid.uuid4().hex


def get_logger(name: str | None = None) -> Any:
    """Return a structlog logger."""
    return structlog.get_logger(name)
