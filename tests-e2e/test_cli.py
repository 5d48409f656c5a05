"""The command line without a running system: where it looks, how it splits scopes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wattline import system
from wattline.cli import csv_chunks, split_scopes
from wattline.registry import SERVICES


def _describe(home: Path, pid: int) -> system.SystemDescription:
    description = system.SystemDescription(
        pid=pid,
        started_at="2026-12-02T10:00:00+00:00",
        gateway_url="http://127.0.0.1:8200",
        database_url="postgresql://postgres@127.0.0.1:54400/wattline",
        kafka_bootstrap="127.0.0.1:19200",
        api_key_file=str(home / "dev-api-key"),
        services={"simulator": "http://127.0.0.1:8306"},
    )
    description.write(home)
    return description


def test_target_reads_the_running_system_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP", "WATTLINE_GATEWAY_URL", "WATTLINE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    _describe(tmp_path, os.getpid())
    (tmp_path / "dev-api-key").write_text("wl_abc_secret\n")
    target = system.Target(tmp_path)
    assert target.database_url == "postgresql://postgres@127.0.0.1:54400/wattline"
    assert target.kafka_bootstrap == "127.0.0.1:19200"
    assert target.gateway_url == "http://127.0.0.1:8200"
    assert target.api_key == "wl_abc_secret"
    assert oct((tmp_path / "system.json").stat().st_mode & 0o777) == "0o600"

    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example:5432/wattline")
    monkeypatch.setenv("WATTLINE_API_KEY", "wl_env_key")
    target = system.Target(tmp_path)
    assert target.database_url == "postgresql://db.example:5432/wattline"
    assert target.api_key == "wl_env_key"
    assert target.gateway_url == "http://127.0.0.1:8200"  # the rest still from the file


def test_no_system_and_a_dead_system_are_named(tmp_path: Path) -> None:
    with pytest.raises(system.NoSystem, match="no Wattline is running from"):
        system.load(tmp_path)
    _describe(tmp_path, 2**22 + 17)  # no such process
    with pytest.raises(system.NoSystem, match=r"is not running \(pid 4194321 is gone\)"):
        system.load(tmp_path)
    (tmp_path / "system.json").write_text("{not json")
    with pytest.raises(system.NoSystem, match="unreadable"):
        system.load(tmp_path)


def test_remove_leaves_a_newer_systems_description(tmp_path: Path) -> None:
    _describe(tmp_path, os.getpid())
    system.remove(tmp_path, os.getpid() + 1)  # an older `up` stopping
    assert json.loads((tmp_path / "system.json").read_text())["pid"] == os.getpid()
    system.remove(tmp_path, os.getpid())
    assert not (tmp_path / "system.json").exists()


def test_scopes_split_on_commas_and_spaces() -> None:
    assert split_scopes("signup:write products:read") == ["signup:write", "products:read"]
    assert split_scopes("signup:write,products:read") == ["signup:write", "products:read"]
    assert split_scopes(" admin ,  settlement:read ") == ["admin", "settlement:read"]


def test_the_registry_names_each_services_own_schema() -> None:
    for entry in SERVICES:
        assert entry.spec().db_schema == entry.schema, entry.name


def test_an_import_file_goes_in_pieces_that_keep_their_line_numbers() -> None:
    text = "external_id,gsrn\n" + "".join(f"X{i},57{i:016d}\n" for i in range(5))
    pieces, repeats = csv_chunks(text, rows=2)
    assert [offset for offset, _ in pieces] == [0, 2, 4] and repeats == []
    assert all(piece.startswith("external_id,gsrn\n") for _, piece in pieces)
    assert "".join(piece.split("\n", 1)[1] for _, piece in pieces) == text.split("\n", 1)[1]
    assert csv_chunks("external_id,gsrn\n") == ([(0, "external_id,gsrn\n")], [])


def test_pieces_are_cut_between_records_and_repeats_are_refused_across_pieces() -> None:
    # A quoted street with a line break (and U+2028, which splitlines() would cut on), CRLF.
    text = (
        "External_ID,street\r\n"
        'A,"Vej 1\r\n2. th"\r\n'  # lines 2-3
        "B,Gade\u2028 2\r\n"  # line 4
        'C,"Sti\n3"\r\n'  # lines 5-6
        "A,Vej 9\r\n"  # line 7: repeats line 3 (where A's record ends) in another piece
        "D,Torv 4\r\n"  # line 8
    )
    pieces, repeats = csv_chunks(text, rows=2)
    assert repeats == [{"line": 7, "external_id": "A", "reasons": ["external_id repeats line 3"]}]
    head = "External_ID,street\r\n"
    assert pieces == [
        (0, head + 'A,"Vej 1\r\n2. th"\r\nB,Gade\u2028 2\r\n'),
        (3, head + 'C,"Sti\n3"\r\n'),  # the piece's line 3 is the file's line 6
        (6, head + "D,Torv 4\r\n"),  # a dropped line ends a piece: one offset per piece
    ]
    broken = 'external_id\r\n"A\r\n'
    assert csv_chunks(broken) == ([(0, broken)], [])


def test_the_description_is_private_even_over_a_leftover_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "system.tmp").write_text("{}")
    (tmp_path / "system.tmp").chmod(0o644)
    _describe(tmp_path, os.getpid())
    assert oct((tmp_path / "system.json").stat().st_mode & 0o777) == "0o600"


async def test_a_second_up_from_a_home_being_started_is_refused(tmp_path: Path) -> None:
    import fcntl

    from wattline.supervisor import Supervisor

    (tmp_path / "run").mkdir()
    with open(tmp_path / "run" / "lock", "w") as held:  # noqa: ASYNC230 (the first `up`)
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert await Supervisor(tmp_path).run() == 1
    assert not (tmp_path / "system.json").exists()


def test_a_backup_s_password_never_reaches_a_command_line() -> None:
    from wattline.backup import _libpq

    target, env = _libpq("postgresql://postgres:s3cr%3Dt@127.0.0.1:5433/wattline")
    assert target == "postgresql://postgres@127.0.0.1:5433/wattline"
    assert env["PGPASSWORD"] == "s3cr=t"


def test_a_tampered_or_foreign_backup_is_refused(tmp_path: Path) -> None:
    import json

    from wattline.backup import BackupError, read_manifest

    with pytest.raises(BackupError, match="not a Wattline backup"):
        read_manifest(tmp_path)
    (tmp_path / "database.dump").write_bytes(b"PGDMP...")
    manifest = {"format": 1, "dump_sha256": "0" * 64, "schemas": {}, "keys": []}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="SHA-256 differs"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "format": 9}))
    with pytest.raises(BackupError, match="format 9"):
        read_manifest(tmp_path)
