"""Processes on this machine as /proc shows them: parent, name and CPU time used so far.

The benchmarks read CPU per operation from here (the server's, the sandbox's, PostgreSQL's),
which moves less than a rate does on a shared machine."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Process:
    """One process: its parent's pid, its name (comm) and its CPU seconds (user + system)."""

    parent: int
    name: str
    cpu_seconds: float


def processes() -> dict[int, Process]:
    """Every process that /proc shows now, by pid (empty where there is no /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, Process] = {}
    root = Path("/proc")
    if not root.is_dir():
        return found
    for entry in root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        found[int(entry.name)] = Process(
            parent=int(fields[1]),
            name=name,
            cpu_seconds=(int(fields[11]) + int(fields[12])) / tick,  # utime + stime
        )
    return found


def descendants(ancestor: int, table: dict[int, Process]) -> set[int]:
    """The pids in `table` whose chain of parents reaches `ancestor`."""
    children: dict[int, list[int]] = {}
    for pid, process in table.items():
        children.setdefault(process.parent, []).append(pid)
    found: set[int] = set()
    wanted = [ancestor]
    while wanted:
        for pid in children.get(wanted.pop(), ()):
            if pid not in found:
                found.add(pid)
                wanted.append(pid)
    return found


def cpu_seconds_of(pids: Collection[int]) -> dict[int, float]:
    """CPU seconds used so far by each of these processes that still runs."""
    table = processes()
    return {pid: table[pid].cpu_seconds for pid in pids if pid in table}
