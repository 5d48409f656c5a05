"""What the gateway forwards: the request target exactly as the client sent it, or a refusal.

A proxy that decodes a path before forwarding it changes what the path means: ``%3F`` becomes
``?`` and cuts the path into a query, ``%2F`` becomes a separator. So the service gets the raw
path and the raw query string, byte for byte, and decodes them once, as the gateway's router
did: both see the same path, and the scopes checked on the gateway's reading are the scopes of
the route the service runs.

Refused (never forwarded): control characters, raw or percent-encoded, anywhere in the path or
the query (no service has a use for them, and they break URLs, logs and SQL), and dot segments
in the decoded path (a service's router would normalise ``/api/x/../../metrics`` out of /api).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]|%(?:[01][0-9a-fA-F]|7[fF])")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_SEPARATORS = re.compile(rb"[/\\]")


class InvalidPath(ValueError):
    """A request target the gateway refuses to forward; the message says why."""


def upstream_target(raw_path: bytes, query_string: bytes) -> str:
    """The path and query to send to the service: *raw_path* and *query_string* as received.

    Bytes above ASCII (a client that did not percent-encode UTF-8) are percent-encoded, which
    keeps their meaning. Raises :class:`InvalidPath` for control characters or dot segments.
    """
    if _CONTROL.search(raw_path) or _CONTROL.search(query_string):
        raise InvalidPath("control characters are not allowed in the path or query")
    decoded = unquote_to_bytes(raw_path)
    if any(segment in (b".", b"..") for segment in _SEPARATORS.split(decoded)):
        raise InvalidPath("dot segments are not allowed")
    target = _ascii(raw_path)
    return f"{target}?{_ascii(query_string)}" if query_string else target


def _ascii(raw: bytes) -> str:
    return _NON_ASCII.sub(lambda m: b"%%%02X" % m[0][0], raw).decode("ascii")
