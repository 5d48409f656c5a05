"""The Danish templates, one file per kind and channel in ``wattline_notifications/templates``
(``<kind>.email.txt`` with its ``Emne:`` line, ``<kind>.sms.txt``), read once at start."""

from __future__ import annotations

from pathlib import Path

from wattline_notifications.domain.messages import KINDS, Channel, Kind, Template

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"


def load(directory: Path = TEMPLATE_DIR) -> dict[tuple[Kind, Channel], Template]:
    """Every kind's e-mail and SMS template; a missing file stops the start."""
    templates: dict[tuple[Kind, Channel], Template] = {}
    for kind in KINDS:
        for channel in ("email", "sms"):
            text = (directory / f"{kind}.{channel}.txt").read_text(encoding="utf-8")
            templates[(kind, channel)] = Template.parse(text, with_subject=channel == "email")
    return templates
