"""Many JSON documents of one shape, rendered as text without a model or a dict per row.

A settlement run writes tens of thousands of settlements (their lines as jsonb) and events
that differ only in some figures. :class:`Template` takes one document as the model or the
adapter makes it, with the per-row values replaced by :func:`slot` markers, and renders each
row by one %-formatting of its JSON tokens (from :func:`decimal_tokens`, :func:`string_tokens`).
Whoever builds a template checks its first row against the document made the ordinary way,
so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_MARK = "\x00"
# How json.dumps writes a marker string: "\u0000<name>\u0000".
_SLOT = re.compile(r'"\\u0000(.*?)\\u0000"')


def slot(name: str) -> str:
    """A stand-in for the per-row value *name* in a template's document."""
    return f"{_MARK}{name}{_MARK}"


def dumps(doc: Any) -> str:
    """JSON as pydantic writes it (compact, UTF-8 kept)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


class Template:
    """Rows of one document shape: *doc* with :func:`slot` markers where rows differ."""

    def __init__(self, doc: Any) -> None:
        pieces = _SLOT.split(dumps(doc))
        self.names = tuple(pieces[1::2])
        self._format = "%s".join(p.replace("%", "%%") for p in pieces[0::2])

    def render(self, tokens: Mapping[str, Sequence[str]]) -> list[str]:
        """One document per row; *tokens* holds each slot's JSON tokens, one per row."""
        columns = [tokens[name] for name in self.names]
        if not columns:
            raise ValueError("a template without slots renders no rows")
        form = self._format
        return [form % row for row in zip(*columns, strict=True)]


def decimal_tokens(
    values: npt.NDArray[np.int64],
    places: int,
    negative: npt.NDArray[np.bool_] | None = None,
    defined: npt.NDArray[np.bool_] | None = None,
) -> list[str]:
    """JSON strings of ``str(Decimal(v).scaleb(-places))`` for integers *values* (the text
    of a fixed-point Decimal: ``"-0.05"``, ``"12.300"``), ``places`` from 1 to 6. With
    *negative*, *values* are magnitudes and the sign is that flag's (``"-0.000000"`` where
    a negative amount rounds to zero, as Decimal writes it); ``null`` where not *defined*."""
    assert 1 <= places <= 6, places  # beyond 6 Decimal writes 0E-7
    if negative is None:
        negative = values < 0
        values = np.abs(values)
    if defined is None and values.size and not negative.any() and bool((values == values[0]).all()):
        return [f'"{int(values[0]) // 10**places}.{int(values[0]) % 10**places:0{places}d}"'] * (
            values.size
        )
    whole, fraction = np.divmod(values, 10**places)
    form = f'"%d.%0{places}d"'
    out = [form % pair for pair in zip(whole.tolist(), fraction.tolist(), strict=True)]
    for row in np.flatnonzero(negative).tolist():
        out[row] = '"-' + out[row][1:]
    if defined is not None:
        for row in np.flatnonzero(~defined).tolist():
            out[row] = "null"
    return out


_PLAIN = re.compile(r"[0-9A-Za-z._:-]*")


def string_tokens(values: Sequence[str]) -> list[str]:
    """JSON strings of *values*, which need no escaping (digits, UUIDs, codes: checked)."""
    if not _PLAIN.fullmatch("".join(values)):
        return [json.dumps(v, ensure_ascii=False) for v in values]
    return [f'"{v}"' for v in values]
