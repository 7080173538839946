"""Shared by the HTTP benchmarks: start a server process, load it, describe the machine."""

from __future__ import annotations

import asyncio
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LoadResult:
    """What one fixed-duration load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def of(cls, latencies: list[float], *, seconds: float, errors: int) -> LoadResult:
        """The result of a run from each request's latency (seconds, any order)."""
        ordered = sorted(latencies)
        return cls(
            requests=len(ordered),
            seconds=seconds,
            p50_ms=_percentile(ordered, 0.50) * 1000,
            p99_ms=_percentile(ordered, 0.99) * 1000,
            errors=errors,
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def granian_server(
    target: str,
    *,
    factory: bool = False,
    env: Mapping[str, str | None] | None = None,
    log_path: Path | None = None,
    ready_path: str = "/",
) -> Iterator[str]:
    """One Granian process (one worker, ASGI) serving `target`; yields its base URL.

    Its output goes to `log_path` (default /dev/null).
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        *(["--factory"] if factory else []),
        target,
    ]
    child_env = dict(os.environ)
    for name, value in (env or {}).items():  # None removes a variable
        if value is None:
            child_env.pop(name, None)
        else:
            child_env[name] = value
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH", "")])
    )
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url + ready_path, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before serving")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer 200 on {url} within {timeout:.0f} s")


def load_generator_name() -> str:
    """`wrk` when installed (it costs the server less CPU), else the built-in asyncio client."""
    return "wrk" if shutil.which("wrk") else "asyncio keep-alive client"


def run_load(
    url: str, *, connections: int, seconds: float, headers: Mapping[str, str] | None = None
) -> LoadResult:
    """Keep `connections` keep-alive clients busy on `url` for `seconds` (sending `headers`,
    e.g. a session cookie, with every request)."""
    extra = dict(headers or {})
    if shutil.which("wrk"):
        return _run_wrk(url, connections=connections, seconds=seconds, headers=extra)
    return asyncio.run(_run_asyncio(url, connections=connections, seconds=seconds, headers=extra))


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def _run_wrk(url: str, *, connections: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    # One wrk thread: on a 2-core machine the server keeps the other core to itself.
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    totals = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", output, re.MULTILINE)
    if not totals or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = sum(int(count) for count in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    if socket_errors:
        errors += sum(int(count) for count in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(
        requests=int(totals.group(1)),
        seconds=_wrk_duration_ms(totals.group(2) + totals.group(3)) / 1000,
        p50_ms=_wrk_duration_ms(percentiles["50"]),
        p99_ms=_wrk_duration_ms(percentiles["99"]),
        errors=errors,
    )


async def _run_asyncio(
    url: str, *, connections: int, seconds: float, headers: dict[str, str]
) -> LoadResult:
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Accept: application/json\r\n{extra}\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if length is None:
                    raise RuntimeError("response without Content-Length")
                await reader.readexactly(int(length.group(1)))
                latencies.append(time.perf_counter() - sent)
                if not 200 <= status < 400:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return LoadResult.of(latencies, seconds=time.perf_counter() - started, errors=errors)


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def machine_description(*extra: str) -> str:
    """CPU model, cores, Python and the given details, for the results file."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [
        cpu,
        f"{os.cpu_count()} cores",
        f"Python {platform.python_version()}",
        f"Granian {version('granian')}",
        *extra,
    ]
    return ", ".join(parts)
