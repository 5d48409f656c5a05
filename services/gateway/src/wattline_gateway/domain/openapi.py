"""The public OpenAPI document: the services' own documents merged into one.

Pure: the gateway merges what its services serve at ``/schema/openapi.json`` (api.py) and
``wattline openapi`` merges documents built in process, with this one function, so the two
cannot drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

SCHEMA_PREFIX = "#/components/schemas/"


def merge(
    parts: Mapping[str, dict[str, Any] | None],
    owner: Callable[[str], str | None],
    own: dict[str, Any],
) -> dict[str, Any]:
    """One document of the public API from *parts* (service name -> its document, None when
    it did not answer) and the gateway's *own* routes' document.

    A service contributes the ``/api`` paths the gateway routes to it (*owner* of the first
    segment is that service: its own name and the aliases it owns) and the schemas those
    paths refer to, directly or through other schemas; the rest of its document (health
    checks, models only its internal routes use) stays out: the simulator's models, say,
    whose names some services' models share. Services are merged in name order, so the
    result does not depend on the order *parts* came in.
    """
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Wattline API",
            "version": "0.1.0",
            "description": "All public endpoints, served through the gateway.",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
        "x-unavailable": [],
    }
    for name in sorted(parts):
        part = parts[name]
        if part is None:
            doc["x-unavailable"].append(name)
            continue
        routed = {
            path: item
            for path, item in part.get("paths", {}).items()
            if path.startswith("/api/") and owner(first_segment(path)) == name
        }
        _add(doc, routed, part)
    _add(doc, own.get("paths", {}), own)
    doc["components"]["schemas"] = dict(sorted(doc["components"]["schemas"].items()))
    return doc


def _add(doc: dict[str, Any], paths: dict[str, Any], part: dict[str, Any]) -> None:
    """*paths* of *part* into *doc*, with the schemas of *part* they refer to (and no other:
    a same-named model of another service's internal routes must not replace one of them)."""
    schemas = part.get("components", {}).get("schemas", {})
    doc["paths"].update(copy.deepcopy(paths))
    for name in referenced(paths, schemas):
        doc["components"]["schemas"][name] = copy.deepcopy(schemas[name])


def referenced(root: Any, schemas: Mapping[str, Any]) -> set[str]:
    """Names of the *schemas* that *root* refers to, directly or through other schemas
    (a name missing from *schemas* is left out)."""
    found: set[str] = set()
    pending = [root]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
                name = ref.removeprefix(SCHEMA_PREFIX)
                if name in schemas and name not in found:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def first_segment(api_path: str) -> str:
    """``products`` of ``/api/products/{id}``."""
    return api_path.removeprefix("/api/").split("/", 1)[0]
