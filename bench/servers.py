"""Start and stop the HTTP servers under test as subprocesses on 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
STARTUP_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no output)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited with code {process.returncode} before it "
                    f"responded at {url}; its output:\n{log_tail(log)}"
                )
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(
        f"server did not respond at {url} within {STARTUP_TIMEOUT_SECONDS} s; "
        f"its output:\n{log_tail(log)}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(
    command: list[str], env: dict[str, str], cwd: Path, health_path: str, port: int
) -> Iterator[str]:
    """Run a server until the block ends; yield its base URL once it is healthy.

    Its output goes to server.log in cwd.
    """
    log_path = cwd / "server.log"
    base_url = f"http://{HOST}:{port}"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_until_healthy(process, base_url + health_path, log_path)
            yield base_url
        finally:
            stop(process)


def ringline_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ringline",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
    ]


def ringline_environment(
    database_url: str, secret_key: str, var_dir: Path
) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("RINGLINE_")
    }
    env.update(
        RINGLINE_DATABASE_URL=database_url,
        RINGLINE_SECRET_KEY=secret_key,
        RINGLINE_RATE_LIMIT="0",
        RINGLINE_LOG_LEVEL="warning",
        RINGLINE_VAR_DIR=str(var_dir),
        RINGLINE_RECORDINGS_DIR=str(var_dir / "recordings"),
    )
    return env


def framework_floor_command(port: int) -> list[str]:
    # The same uvicorn defaults as `ringline serve`: one worker, no access log,
    # no proxy headers, and the event loop and HTTP parser uvicorn picks.
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "framework_floor:app",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-proxy-headers",
    ]


def framework_floor_environment(bodies_dir: Path) -> dict[str, str]:
    return {**os.environ, "BENCH_BODIES_DIR": str(bodies_dir)}
