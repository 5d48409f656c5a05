"""Peak memory and CPU per service of a running system, sampled from /proc (Linux).

`wattline up` writes each process's pid to ``<home>/run/<name>.pid`` (the services, postgres,
kafka, mail). :class:`ResourceSampler` reads those files every *interval* seconds in a
background thread (again each time, so a restarted service is followed to its new pid) and
samples, for each process and all its descendants (PostgreSQL's backends are children of its
postmaster), the resident memory (VmRSS, summed over the tree: shared pages are counted once
per process, so PostgreSQL's figure is an upper bound) and the CPU time (utime + stime).
``report()`` gives peak RSS and mean / peak CPU % per name (100 % = one core busy)::

    with ResourceSampler(home) as sampler:
        ...  # the load
    print(format_report(sampler.report()))
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Usage:
    """What one name used over the sampling."""

    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    peak_cpu_percent: float = 0.0
    seconds: float = 0.0

    @property
    def mean_cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / self.seconds if self.seconds else 0.0


def _processes() -> dict[int, tuple[int, float, int]]:
    """pid -> (parent pid, CPU seconds, RSS bytes) of every process now."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        # state ppid ... utime(12) stime(13) ... rss(22), counted from the state field
        found[int(entry.name)] = (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / TICKS,
            int(fields[21]) * PAGE,
        )
    return found


def tree_totals(roots: dict[str, int]) -> dict[str, tuple[float, int]]:
    """name -> (CPU seconds, RSS bytes) of the process *roots[name]* and its descendants."""
    procs = _processes()
    owner: dict[int, str] = {pid: name for name, pid in roots.items() if pid in procs}
    totals = {name: (0.0, 0) for name in owner.values()}
    for pid in procs:
        chain, cursor = [], pid
        while cursor not in owner and cursor in procs and cursor > 1:
            chain.append(cursor)
            cursor = procs[cursor][0]
        name = owner.get(cursor)
        if name is None:
            continue
        for member in chain:
            owner[member] = name
        cpu, rss = totals[name]
        totals[name] = (cpu + procs[pid][1], rss + procs[pid][2])
    return totals


def read_pids(home: Path) -> dict[str, int]:
    """The pids `wattline up` recorded under *home*/run, by name."""
    pids = {}
    for path in sorted((home / "run").glob("*.pid")):
        try:
            pids[path.stem] = int(path.read_text().strip())
        except (OSError, ValueError):
            continue  # being rewritten by a restart
    return pids


@dataclass
class ResourceSampler:
    """Samples the processes of the system at *home* every *interval* seconds."""

    home: Path
    interval: float = 1.0
    usage: dict[str, Usage] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ResourceSampler:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="resource-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * self.interval)

    def _run(self) -> None:
        last: dict[str, tuple[int, float, float]] = {}  # name -> (pid, cpu s, monotonic)
        while True:
            pids = read_pids(self.home)
            now = time.monotonic()
            for name, (cpu, rss) in tree_totals(pids).items():
                usage = self.usage.setdefault(name, Usage())
                usage.peak_rss_mb = max(usage.peak_rss_mb, rss / 2**20)
                before = last.get(name)
                if before is not None and before[0] == pids[name] and now > before[2]:
                    used = max(0.0, cpu - before[1])  # a descendant that ended takes its time
                    usage.cpu_seconds += used
                    usage.seconds += now - before[2]
                    usage.peak_cpu_percent = max(
                        usage.peak_cpu_percent, 100 * used / (now - before[2])
                    )
                last[name] = (pids[name], cpu, now)
            if self._stop.wait(self.interval):
                return

    def report(self) -> dict[str, Usage]:
        """Usage per name, largest peak memory first."""
        return dict(sorted(self.usage.items(), key=lambda kv: -kv[1].peak_rss_mb))


def format_report(usage: dict[str, Usage]) -> str:
    """A table: name, peak RSS, mean and peak CPU %."""
    lines = [f"{'process':<16}{'peak RSS MB':>12}{'mean CPU %':>12}{'peak CPU %':>12}"]
    for name, u in usage.items():
        lines.append(
            f"{name:<16}{u.peak_rss_mb:>12.0f}{u.mean_cpu_percent:>12.0f}"
            f"{u.peak_cpu_percent:>12.0f}"
        )
    return "\n".join(lines)
