"""Hostile CIM JSON for property tests (hypothesis): what DataHub, or anyone pretending to
be it, might send. For tests only (hypothesis is a development dependency).

- :func:`any_root_documents`: generated JSON under every root this package parses;
- :func:`hostile_variants`: a reference example with one value replaced by something hostile
  (another JSON type, a date at the calendar's ends, a number without bounds, NUL, a lone
  surrogate, non-ASCII digits) or one key deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from wattline_cim.build import dumps
from wattline_cim.parse import PARSERS, PER_TRANSACTION

LONE_SURROGATE = "<lone surrogate>"  # written as the escape \ud800 by wire(): UTF-8 has none

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "A10\x00",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59Z",
        "0001-01-01T00:00Z",
        "2025-02-30T00:00Z",
        "2025-01-15T23:00:00.1234567890123456789Z",
        "2025-01-15T23:00:00+99:99",
        "1e999999999",
        "-0",
        "NaN",
        "Infinity",
        "PT0M",
        "P1Y",
        "x" * 10_000,
        LONE_SURROGATE,
        "٣",  # an Arabic-Indic digit: \d matches it, int() and Decimal() read it
        "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨",
    ]
)
HOSTILE_NUMBER = st.sampled_from(
    [
        0,
        -1,
        2**63,
        -(2**63) - 1,
        10**400,
        Decimal("1E+999999"),
        Decimal("-1E-999999"),
        Decimal("1E+400"),
        Decimal("0.000000000000000000000000000001"),
        Decimal("123456789012345678901234567890.123456789"),
    ]
)
_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS | HOSTILE_TEXT | HOSTILE_NUMBER,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_DELETE = object()


def load_examples(folder: Path) -> dict[str, dict[str, Any]]:
    """The CIM JSON examples in *folder* by file name, numbers as Decimal."""
    return {
        p.name: json.loads(p.read_bytes(), parse_float=Decimal)
        for p in sorted(folder.glob("*.json"))
    }


def wire(doc: dict[str, Any]) -> bytes:
    """*doc* as JSON text (:data:`LONE_SURROGATE` as the escape JSON allows for it)."""
    return dumps(doc).replace(LONE_SURROGATE.encode(), b"\\ud800")


def places(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON tree, as the keys and indexes leading to it."""
    if here:
        yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*here, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from places(value, (*here, i))


def replaced(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of *doc* with the value at *path* replaced by *value*."""
    copy: dict[str, Any] = json.loads(dumps(doc), parse_float=Decimal)
    node: Any = copy
    for step in path[:-1]:
        node = node[step]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


def any_root_documents() -> st.SearchStrategy[bytes]:
    """Generated JSON under each root :func:`~wattline_cim.parse_document` knows."""
    return st.builds(
        lambda root, body: wire({root: body}),
        st.sampled_from(sorted({**PARSERS, **PER_TRANSACTION})),
        JSON,
    )


@st.composite
def hostile_variants(draw: st.DrawFn, examples: dict[str, dict[str, Any]]) -> bytes:
    """One of *examples* with one value replaced by something hostile, or a key deleted."""
    doc = examples[draw(st.sampled_from(sorted(examples)), label="example")]
    path = draw(st.sampled_from(sorted(places(doc), key=repr)), label="path")
    values = HOSTILE_TEXT | HOSTILE_NUMBER | JSON
    if isinstance(path[-1], str):
        values = values | st.just(_DELETE)
    return wire(replaced(doc, path, draw(values, label="value")))


__all__ = [
    "HOSTILE_NUMBER",
    "HOSTILE_TEXT",
    "JSON",
    "LONE_SURROGATE",
    "any_root_documents",
    "hostile_variants",
    "load_examples",
    "places",
    "replaced",
    "wire",
]
