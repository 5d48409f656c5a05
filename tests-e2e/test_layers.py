"""The layers contracts bite: every service has one, and each fails on a real violation.

import-linter passing proves nothing by itself (a contract that names no module, or layers in
the wrong order, passes too). So the services' sources are copied, each copy gets one module
in its domain that imports its own adapters (the one direction every layers contract forbids),
and import-linter, pointed at the copies, must report every service's layers contract broken.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())


def _layers_contracts() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    named: dict[str, str] = {}
    for contract in contracts:
        if contract["type"] != "layers":
            continue
        packages = {layer.split(".")[0].strip() for layer in contract["layers"]}
        assert len(packages) == 1, f"{contract['name']} spans {packages}"
        named[packages.pop().removeprefix("wattline_")] = contract["name"]
    return named


def test_every_service_has_a_layers_contract_with_domain_at_the_bottom() -> None:
    contracts = _layers_contracts()
    assert sorted(contracts) == SERVICES
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "layers":
            service = contract["layers"][0].split(".")[0]
            assert contract["layers"][-1] == f"{service}.domain", contract["name"]
            assert contract["layers"][-2] == f"{service}.adapters", contract["name"]


def test_a_domain_importing_its_adapters_breaks_its_services_contract(tmp_path: Path) -> None:
    for service in SERVICES:
        package = f"wattline_{service}"
        copy = tmp_path / package
        shutil.copytree(ROOT / "services" / service / "src" / package, copy)
        (copy / "domain" / "layer_probe.py").write_text(f"import {package}.adapters  # noqa\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    broken = set(re.findall(r"^(.+?) BROKEN$", result.stdout, flags=re.MULTILINE))
    assert broken == set(_layers_contracts().values()), result.stdout
    for service in SERVICES:
        assert f"wattline_{service}.domain.layer_probe -> wattline_{service}.adapters" in (
            result.stdout
        )
