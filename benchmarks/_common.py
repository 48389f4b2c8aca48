"""Shared pieces of the benchmark scripts: machine description, sample text, result files."""

from __future__ import annotations

import csv
import os
import platform
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    python = f"Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {python}, {system}"


def sentences() -> list[str]:
    path = DATASETS / "text" / "sst2.csv"
    with path.open(newline="") as f:
        return [row["text"] for row in csv.DictReader(f)]


def text_of_about(n_chars: int, pool: list[str], rng: random.Random) -> str:
    parts: list[str] = []
    length = 0
    while length < n_chars:
        s = rng.choice(pool)
        parts.append(s)
        length += len(s) + 1
    return " ".join(parts)[:n_chars]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(data_dir: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment without its ACCORD_ settings, for the data directory (and
    ``extra``, e.g. ACCORD_DATABASE_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


def accord(
    data_dir: Path, *args: str, capture: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        env=_environment(data_dir, env),
        check=True,
        text=True,
        capture_output=capture,
    )


def text_project(
    tmpdir: Path, name: str, schema: str, items: int, seed: int, *, with_split: bool = False
) -> Path:
    """A data directory with an administrator (password ``benchmark-pass``) and one project of
    ``items`` review sentences of about 150 characters, imported through the CLI. With
    ``with_split`` every tenth item has the metadata split=test, the others split=train."""
    import json

    rng = random.Random(seed)
    pool = sentences()
    data_dir = tmpdir / "data"
    accord(data_dir, "init", "--password", "benchmark-pass")
    schema_file = tmpdir / "schema.yaml"
    schema_file.write_text(schema)
    accord(data_dir, "project", "create", name, "--schema", str(schema_file))
    source = tmpdir / "items.jsonl"
    with source.open("w") as f:
        for i in range(items):
            data = {"text": f"{i}: " + text_of_about(150, pool, rng)}
            if with_split:
                row = {"data": data, "meta": {"split": "test" if i % 10 == 0 else "train"}}
                f.write(json.dumps(row) + "\n")
            else:
                f.write(json.dumps(data) + "\n")
    accord(data_dir, "import", name, str(source))
    source.unlink()
    return data_dir


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    """`accord serve` on the data directory, in a subprocess; yields the API's base URL."""
    with server_process(data_dir) as (base, _server):
        yield base


@contextmanager
def server_process(
    data_dir: Path,
    *options: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`accord serve` on the data directory (with more ``options`` and ``env``), in a
    subprocess; yields the API's base URL and the process. Its error output goes to ``log``
    (discarded without one: a pipe nobody reads would stop the server once it filled up)."""
    import httpx

    port = free_port()
    errors = log.open("ab") if log is not None else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--port", str(port), "--no-demo", *options],
        env=_environment(data_dir, env),
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)
        if log is not None:
            errors.close()  # type: ignore[union-attr]


def git_commit() -> str:
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    commit = found.stdout.strip() or "uncommitted"
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{commit} with uncommitted changes" if dirty else commit


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_section(title: str, body: str) -> None:
    """Replace (or append) the section with this title in RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    header = f"## {title}\n"
    start = text.find(header)
    section = header + body.rstrip() + "\n\n"
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(header))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    RESULTS.write_text(text.rstrip() + "\n")
