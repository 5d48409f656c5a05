"""Where a message is parsed: a parser fault dead-letters that message, a dead parse process
is replaced (wattline_datahub.handlers.parsing)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from wattline_datahub.handlers import parsing
from wattline_datahub.handlers.parsing import InProcesses, understand

CIM = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures" / "cim"
RSM012 = (CIM / "rsm012-validated-measure-data-pt1h-2025-01-15.json").read_bytes()


def test_a_fault_of_the_parser_dead_letters_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(doc: object, message_id: str) -> object:
        raise KeyError("a field the parser expected")

    monkeypatch.setattr(parsing, "interpret", broken)
    found = understand(RSM012, "msg-1")
    assert found.reason == "the parser failed on this document: KeyError"
    assert found.understood.count == 0


def _die(raw: bytes, message_id: str) -> object:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


async def test_a_dead_parse_process_is_replaced_and_a_killing_document_dead_lettered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = InProcesses(1)
    try:
        good = await pool(RSM012, "msg-1")
        assert good.reason is None and good.understood.count == 1
        monkeypatch.setattr(parsing, "understand", _die)  # in this process: what it submits
        killed = await pool(RSM012, "msg-2")
        assert killed.reason == "the parser's process died on this document"
        monkeypatch.undo()
        again = await pool(RSM012, "msg-3")  # a fresh pool parses the next one
        assert again.reason is None and again.understood.count == 1
    finally:
        await pool.close()
