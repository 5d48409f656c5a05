"""deploy/env.example is generated from the settings classes and the endpoint registry.

It drifts when a setting is added, removed, renamed or re-described without regenerating
(`uv run python -m wattline.envdoc > deploy/env.example`), when a service grows a settings class
the generator does not know, or when docker-compose.yml passes a variable nobody documents.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from wattline_platform.endpoints import ENDPOINTS

from wattline import envdoc

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_BASES = {"BaseSettings", "ServiceSettings", "PlatformSettings"}


def _all_classes() -> list[str]:
    return [
        *envdoc.PLATFORM_CLASSES,
        envdoc.SERVICE_BASE,
        *(path for paths in envdoc.SERVICE_CLASSES.values() for path in paths),
    ]


def _variables(path: str) -> list[envdoc.Variable]:
    return list(envdoc.variables(envdoc.load(path)))


def _documented() -> dict[str, str]:
    """NAME -> the line that sets it (commented or not) in deploy/env.example."""
    found = {}
    for line in envdoc.ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_<>]*)=(.*)$", line)
        if match:
            found[match[1]] = line
    return found


def test_env_example_is_generated_from_the_settings() -> None:
    assert envdoc.ENV_EXAMPLE.read_text() == envdoc.document(), (
        "deploy/env.example drifted from the settings classes: "
        "uv run python -m wattline.envdoc > deploy/env.example"
    )


def test_the_check_command_reports_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "env.example"
    lines = envdoc.document().splitlines(keepends=True)
    stale.write_text("".join(ln for ln in lines if "WATTLINE_DATAHUB_TOKEN_URL=" not in ln))
    monkeypatch.setattr(envdoc, "ENV_EXAMPLE", stale)
    assert envdoc.main(["--check"]) == 1
    assert "+WATTLINE_DATAHUB_TOKEN_URL=" in capsys.readouterr().err
    assert envdoc.main(["--write"]) == 0
    assert envdoc.main(["--check"]) == 0


def test_every_settings_class_of_every_service_is_generated() -> None:
    """A pydantic-settings class anywhere in services/ or libs/ must be listed in envdoc."""
    defined = set()
    for path in [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/*/src/**/*.py")]:
        package = path.relative_to(next(p for p in path.parents if p.name == "src"))
        module = ".".join(package.with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases}
                if bases & SETTINGS_BASES:
                    defined.add(f"{module}:{node.name}")
    assert defined == set(_all_classes()), "add new settings classes to wattline.envdoc"


def test_every_setting_has_a_description() -> None:
    undescribed = [
        f"{path} {var.name}"
        for path in _all_classes()
        for var in _variables(path)
        if not var.description
    ]
    assert undescribed == [], "give these a Field(description=...)"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.env)
def test_every_registry_setting_is_a_setting_and_documented(endpoint: Any) -> None:
    documented = _documented()
    assert endpoint.env in documented, f"{endpoint.env} is not in deploy/env.example"
    line = documented[endpoint.env]
    if endpoint.required:
        assert line == f"{endpoint.env}=", line  # no default to show
    settings = {var.name: var for path in _all_classes() for var in _variables(path)}
    assert endpoint.env in settings, f"{endpoint.env} is read by no settings class"
    if endpoint.required:
        assert settings[endpoint.env].default in ("", "{}"), "a required setting has no default"


def test_no_setting_defaults_to_a_local_port() -> None:
    """Outside addresses have no default on 127.0.0.1/localhost (another process's port)."""
    registry = {e.env for e in ENDPOINTS}
    offenders = [
        (path, var.name, var.default)
        for path in _all_classes()
        for var in _variables(path)
        if var.name in registry and re.search(r"127\.0\.0\.1|localhost", var.default)
    ]
    assert offenders == []


def _compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def test_every_variable_compose_substitutes_is_documented() -> None:
    """What an operator may put in .env for compose is in env.example."""
    text = (ROOT / "docker-compose.yml").read_text()
    substituted = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    missing = substituted - set(_documented())
    assert missing == set(), f"compose substitutes undocumented variables: {sorted(missing)}"


def test_every_variable_compose_gives_a_service_is_a_setting() -> None:
    """A typo in a compose variable name would be silently ignored by the service."""
    services = _compose_services()
    unknown = []
    for name, paths in envdoc.SERVICE_CLASSES.items():
        known = {
            var.name for path in [*envdoc.PLATFORM_CLASSES, *paths] for var in _variables(path)
        }
        env = services[name].get("environment") or {}
        unknown += [f"{name}: {var}" for var in env if var not in known]
    assert unknown == []
