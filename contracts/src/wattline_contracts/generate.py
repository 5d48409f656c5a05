"""Generate the JSON Schemas and the AsyncAPI document checked in under ``contracts/``.

``python -m wattline_contracts.generate`` rewrites them; ``--check`` exits 1 when the files
differ from the models (the test suite runs the same comparison).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from wattline_contracts.envelope import Envelope
from wattline_contracts.registry import EVENTS

ROOT = Path(__file__).resolve().parents[2]


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def documents() -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {
        ROOT / "schemas" / "envelope.json": _dump(Envelope.model_json_schema()),
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event in EVENTS:
        name = f"{event.__name__}"
        schema = event.model_json_schema()
        schema["title"] = name
        schema["x-event-type"] = event.TYPE
        schema["x-event-version"] = event.VERSION
        files[ROOT / "schemas" / f"{event.TYPE}.v{event.VERSION}.json"] = _dump(schema)
        messages[name] = {
            "name": name,
            "title": f"{event.TYPE} v{event.VERSION}",
            "summary": (event.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    h: {"type": "string"}
                    for h in ("event_id", "event_type", "event_version", "correlation_id")
                },
            },
            "payload": {
                "allOf": [
                    {"$ref": "./schemas/envelope.json"},
                    {
                        "type": "object",
                        "properties": {
                            "payload": {"$ref": f"./schemas/{event.TYPE}.v{event.VERSION}.json"}
                        },
                    },
                ]
            },
        }
        channel = channels.setdefault(event.topic(), {"address": event.topic(), "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        operations[f"publish{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{event.topic()}"},
            "messages": [{"$ref": f"#/channels/{event.topic()}/messages/{name}"}],
        }
    asyncapi = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Wattline events",
            "version": "0.1.0",
            "description": "Events Wattline's services publish through their outboxes. "
            "Each message is an envelope (event_id, type, version, occurred_at, "
            "correlation_id, causation_id, producer, key) around the event's payload; "
            "topics are keyed by the aggregate id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    files[ROOT / "asyncapi.json"] = _dump(asyncapi)
    return files


def stale() -> list[Path]:
    """Generated files whose checked-in content differs from the models."""
    return [
        path
        for path, content in documents().items()
        if not path.exists() or path.read_text() != content
    ]


def main() -> int:
    if "--check" in sys.argv:
        out = stale()
        for path in out:
            print(f"stale: {path}")
        return 1 if out else 0
    for path, content in documents().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
