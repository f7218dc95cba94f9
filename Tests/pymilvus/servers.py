"""Starting and stopping the Milvus-protocol servers on a free loopback port; used by the pytest
suite here and by Benchmarks/milvus_protocol_bench.py.

- `quiver`: `quiver serve DIR/db.quiver --host 127.0.0.1 --port P [--token T]`; the binary is
  `$QUIVER_BIN` or the `quiver` in `swift build --show-bin-path` of this repository.
- `milvus-lite`: `milvus-lite server --data-dir DIR --host 127.0.0.1 --port P` (PyPI milvus-lite,
  found beside the running Python or on PATH). It has no authentication option.

Both are stopped with SIGTERM: a server started in the background of a non-interactive shell
ignores SIGINT.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ALL_SERVERS = ("quiver", "milvus-lite")


def quiver_binary(configuration: str = "debug") -> Path | None:
    """The `quiver` executable: $QUIVER_BIN, else the one SwiftPM built in this repository."""
    env = os.environ.get("QUIVER_BIN")
    if env:
        return Path(env)
    try:
        out = subprocess.run(
            ["swift", "build", "-c", configuration, "--show-bin-path"],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out) / "quiver"
    return path if path.exists() else None


def milvus_lite_command() -> list[str] | None:
    exe = Path(sys.executable).with_name("milvus-lite")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("milvus-lite")
    return [found] if found else None


def quiver_serves(binary: Path) -> bool:
    """Whether this `quiver` has the `serve` command."""
    try:
        return subprocess.run([str(binary), "serve", "--help"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def available_servers() -> list[str]:
    found = []
    binary = quiver_binary()
    if binary is not None and quiver_serves(binary):
        found.append("quiver")
    if milvus_lite_command() is not None:
        found.append("milvus-lite")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    name: str
    port: int
    data_dir: Path
    process: subprocess.Popen
    log: Path
    token: str = ""

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for_port(server: RunningServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode} before "
                               f"listening:\n{server.log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not listen on port {server.port} within {timeout} s:\n"
                       f"{server.log.read_text()}")


def start_server(name: str, root: Path, token: str = "", quiver: Path | None = None,
                 data_dir: Path | None = None, extra_args: tuple[str, ...] = ()) -> RunningServer:
    """Starts `name` with a fresh data directory under `root` (or `data_dir`, kept from an earlier
    run: a restart) and waits until it accepts connections. `extra_args` go to the server's
    command line. Raises RuntimeError when it cannot start."""
    port = free_port()
    log = root / f"{name}-{port}.log"
    if data_dir is None:
        data_dir = root / f"{name}-{port}"
        data_dir.mkdir(parents=True)
    if name == "quiver":
        binary = quiver or quiver_binary()
        if binary is None:
            raise RuntimeError("no quiver binary: set QUIVER_BIN or run "
                               "`swift build --product quiver`")
        command = [str(binary), "serve", str(data_dir / "db.quiver"), "--host", "127.0.0.1",
                   "--port", str(port)]
        if token:
            command += ["--token", token]
    elif name == "milvus-lite":
        lite = milvus_lite_command()
        if lite is None:
            raise RuntimeError("milvus-lite is not installed (pip install milvus-lite==3.2.2)")
        if token:
            raise RuntimeError("milvus-lite server has no authentication option")
        command = lite + ["server", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                          "--port", str(port)]
    else:
        raise ValueError(name)
    command += list(extra_args)
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = RunningServer(name, port, data_dir, process, log, token)
    try:
        wait_for_port(server)
    except BaseException:
        server.stop()
        raise
    return server
