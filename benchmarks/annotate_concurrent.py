"""30 annotators at once over real HTTP on a 500,000-item project, on SQLite and on PostgreSQL:
annotations/s, latency of next and submit, refused requests, and the queue's invariants.

    python benchmarks/annotate_concurrent.py [--items 500000] [--annotators 30] [--seconds 60]
        [--warmup 10] [--database sqlite|postgresql|both] [--postgres-url URL] [--workers 1]
        [--data-dir DIR] [--build-cache DIR] [--py-spy DIR] [--no-write]

Protocol, per database:

1. Build: ``accord init``, ``accord project create --overlap 3`` and ``accord import`` of
   ``--items`` review sentences of about 150 characters (SST-2), every 20th a gold item (5%,
   through the import's ``gold`` key, with a random known answer). PostgreSQL runs on a scratch
   database made with scripts/pg_database.py and dropped afterwards (kept with ``--data-dir``).
2. `accord serve` (one uvicorn process, the defaults: SQLite in WAL mode with
   synchronous=FULL, so that an acknowledged answer is on disk). The administrator sets
   gold_rate 0.05 and the review policy ``sample`` at 0.1 through the API and creates the
   annotators and one reviewer.
3. Every annotator is one asyncio task with one keep-alive httpx client, logged in through
   POST /auth/login (session cookie, ``x-csrf-token`` header) like the browser. It loops
   next -> submit without pause: right on a gold item with its own accuracy (uniform in
   0.7-0.95), a random label elsewhere; work a reviewer sent back is answered again. The
   reviewer loops review/next -> a verdict on each waiting answer (10% rejected, so rework
   goes round too). Calls in the first ``--warmup`` seconds are not measured; then
   ``--seconds`` of wall time are. annotations/s counts the submissions acknowledged (201) in
   the measured window.
4. After the server stopped, SQL checks: no ordinary item holds more than 3 current,
   non-skipped answers; no (item, annotator) pair has two current answers or two first
   versions; every acknowledged annotation and verdict is stored as acknowledged; each item's
   counters equal its assignments (n_assigned: leased, submitted or returned; n_done:
   submitted).

Clients, server and database share the machine's cores, so the figures are the whole system's.
With ``--py-spy DIR`` the server is sampled by py-spy during the measured window (raw stacks, for
``py-spy``'s flame graphs or a grep), which slows it down: measure without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import (
    ROOT,
    accord,
    git_commit,
    machine,
    pct,
    sentences,
    server_process,
    text_of_about,
    write_section,
)
from sqlalchemy import create_engine, text

SCHEMA = (
    "fields:\n  - {name: text, type: text}\ncontrols:\n"
    "  - {name: sentiment, type: choices, field: text, required: true,"
    " labels: [positive, negative]}\n"
)
LABELS = ("positive", "negative")
GOLD_EVERY = 20  # 5% of the items
PASSWORD = "benchmark-pass"
PROJECT = "concurrent"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REJECT_RATE = 0.1


@dataclass
class Call:
    kind: str  # next, submit, review-next, review
    started: float
    ms: float
    status: str  # HTTP status, or the exception's name


@dataclass
class Run:
    """What the clients saw: every call, and the acknowledged writes."""

    calls: list[Call] = field(default_factory=list)
    annotations: list[tuple[int, int, int]] = field(default_factory=list)  # id, item, user
    reviews: list[tuple[int, int]] = field(default_factory=list)  # review id, annotation id
    refused: dict[str, str] = field(default_factory=dict)  # first body per kind and status
    server_cpu: float = 0.0  # seconds of CPU the server used in the measured window


def gold_answers(items: int) -> dict[int, str]:
    """Item number (the text's prefix) -> known answer."""
    rng = random.Random(7)
    return {i: rng.choice(LABELS) for i in range(3, items, GOLD_EVERY)}


def build(data_dir: Path, items: int, env: dict[str, str]) -> None:
    rng = random.Random(3)
    pool = sentences()
    gold = gold_answers(items)
    accord(data_dir, "init", "--password", PASSWORD, env=env)
    schema_file = data_dir.parent / f"{data_dir.name}-schema.yaml"
    schema_file.write_text(SCHEMA)
    accord(
        data_dir,
        "project",
        "create",
        PROJECT,
        "--schema",
        str(schema_file),
        "--overlap",
        "3",
        env=env,
    )
    source = data_dir.parent / f"{data_dir.name}-items.jsonl"
    with source.open("w") as f:
        for i in range(items):
            data = {"text": f"{i}: " + text_of_about(150, pool, rng)}
            row: dict[str, Any] = (
                {"data": data, "gold": {"sentiment": gold[i]}} if i in gold else data
            )
            f.write(json.dumps(row) + "\n")
    started = time.perf_counter()
    out = accord(data_dir, "import", PROJECT, str(source), env=env).stdout.strip()
    print(f"  import: {out.splitlines()[0] if out else ''} ({time.perf_counter() - started:.0f} s)")
    source.unlink()


def setup(base: str, admin_token: str, annotators: int) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}) as http:
        http.patch(
            "/projects/1",
            json={"gold_rate": 0.05, "review_policy": "sample", "review_sample_rate": 0.1},
        ).raise_for_status()
        people = [(f"annotator{k}", "annotator") for k in range(annotators)]
        for name, role in [*people, ("reviewer", "reviewer")]:
            http.post("/users", json={"username": name, "password": PASSWORD}).raise_for_status()
            http.put(f"/projects/1/members/{name}", json={"role": role}).raise_for_status()


async def login(base: str, name: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1))
    r = await http.post("/auth/login", json={"username": name, "password": PASSWORD})
    r.raise_for_status()
    http.headers["x-csrf-token"] = r.json()["csrf_token"]
    return http


async def timed(
    run: Run, kind: str, http: httpx.AsyncClient, method: str, url: str, **kw: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        r = await http.request(method, url, **kw)
    except httpx.HTTPError as exc:
        run.calls.append(
            Call(kind, started, (time.perf_counter() - started) * 1000, type(exc).__name__)
        )
        return None
    run.calls.append(
        Call(kind, started, (time.perf_counter() - started) * 1000, str(r.status_code))
    )
    if r.status_code >= 300:
        run.refused.setdefault(f"{kind} {r.status_code}", r.text[:300])
    return r


async def annotate(
    run: Run,
    http: httpx.AsyncClient,
    user_id: int,
    accuracy: float,
    gold: dict[int, str],
    until: float,
    seed: int,
) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < until:
        r = await timed(run, "next", http, "POST", "/projects/1/next")
        if r is None or r.status_code != 200:
            await asyncio.sleep(0.2 if r is not None and r.status_code != 204 else 1)
            continue
        item = r.json()["item"]
        number = int(item["data"]["text"].split(":", 1)[0])
        if number in gold:
            right = rng.random() < accuracy
            label = gold[number] if right else LABELS[1 - LABELS.index(gold[number])]
        else:
            label = rng.choice(LABELS)
        s = await timed(
            run,
            "submit",
            http,
            "POST",
            f"/projects/1/items/{item['id']}/annotations",
            json={"result": {"sentiment": label}, "lead_time": round(rng.uniform(2, 20), 1)},
        )
        if s is not None and s.status_code == 201:
            run.annotations.append((s.json()["id"], item["id"], user_id))


async def review(run: Run, http: httpx.AsyncClient, until: float) -> None:
    rng = random.Random(11)
    after = 0
    while time.perf_counter() < until:
        r = await timed(run, "review-next", http, "GET", f"/projects/1/review/next?after={after}")
        if r is None or r.status_code != 200:
            after = 0
            await asyncio.sleep(1)
            continue
        found = r.json()
        after = found["item"]["id"]
        for waiting in found["annotations"]:
            verdict = "rejected" if rng.random() < REJECT_RATE else "accepted"
            answer = waiting["annotation"]["id"]
            v = await timed(
                run,
                "review",
                http,
                "POST",
                f"/projects/1/annotations/{answer}/review",
                json={"verdict": verdict, "reason": "read the guidelines again"},
            )
            if v is not None and v.status_code == 201:
                run.reviews.append((v.json()["id"], answer))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process and its children (uvicorn's workers) have used."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def server_cpu(run: Run, pid: int, warmup: float, seconds: float) -> None:
    await asyncio.sleep(warmup)
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    run.server_cpu = cpu_seconds(pid) - before


async def drive(
    base: str, pid: int, annotators: int, warmup: float, seconds: float, gold: dict[int, str]
) -> tuple[Run, float]:
    names = [f"annotator{k}" for k in range(annotators)]
    clients = [await login(base, name) for name in names]
    reviewer = await login(base, "reviewer")
    ids = [(await c.get("/auth/me")).json()["id"] for c in clients]
    rng = random.Random(5)
    run = Run()
    start = time.perf_counter()
    until = start + warmup + seconds
    tasks = [
        annotate(run, c, uid, rng.uniform(0.7, 0.95), gold, until, k)
        for k, (c, uid) in enumerate(zip(clients, ids, strict=True))
    ]
    await asyncio.gather(
        *tasks, review(run, reviewer, until), server_cpu(run, pid, warmup, seconds)
    )
    for c in [*clients, reviewer]:
        await c.aclose()
    return run, start + warmup


def check(url: str, run: Run) -> dict[str, int]:
    """Violations of each invariant (all 0 when the queue is right)."""
    engine = create_engine(url)
    found: dict[str, int] = {}
    with engine.connect() as conn:

        def count(sql: str) -> int:
            return int(conn.execute(text(f"SELECT count(*) FROM ({sql}) AS v")).scalar_one())

        found["ordinary items with more than 3 current answers"] = count(
            "SELECT a.item_id FROM annotations a JOIN items i ON i.id = a.item_id"
            " WHERE i.status <> 'gold' AND a.is_latest AND NOT a.skipped"
            " GROUP BY a.item_id HAVING count(*) > 3"
        )
        found["(item, annotator) pairs answered twice"] = count(
            "SELECT item_id, user_id FROM annotations WHERE is_latest"
            " GROUP BY item_id, user_id HAVING count(*) > 1"
        ) + count(
            "SELECT item_id, user_id FROM annotations WHERE parent_id IS NULL"
            " GROUP BY item_id, user_id HAVING count(*) > 1"
        )
        stored = {
            (a, i, u)
            for a, i, u in conn.execute(text("SELECT id, item_id, user_id FROM annotations"))
        }
        verdicts = set(conn.execute(text("SELECT id, annotation_id FROM reviews")).all())
        found["acknowledged annotations missing"] = len(set(run.annotations) - stored)
        found["acknowledged verdicts missing"] = len(set(run.reviews) - verdicts)
        found["items whose counters differ from their assignments"] = count(
            "SELECT i.id FROM items i JOIN ("
            "  SELECT item_id,"
            "   sum(CASE WHEN state IN ('leased', 'submitted', 'returned') THEN 1 ELSE 0 END)"
            "    AS held,"
            "   sum(CASE WHEN state = 'submitted' THEN 1 ELSE 0 END) AS done"
            "  FROM assignments GROUP BY item_id) a ON a.item_id = i.id"
            " WHERE i.n_assigned <> a.held OR i.n_done <> a.done"
        )
    engine.dispose()
    return found


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _pg(postgres: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(postgres.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextmanager
def database(
    kind: str, postgres: str, keep: bool, template: str | None
) -> Iterator[dict[str, str]]:
    """The environment that points `accord` at the run's database: SQLite in the data
    directory, or a scratch PostgreSQL database (a copy of ``template`` when given)."""
    if kind == "sqlite":
        yield {}
        return
    name = f"accord_concurrent_{os.getpid()}"
    script = str(ROOT / "scripts" / "pg_database.py")
    server = postgres.replace("+psycopg", "")  # the script speaks libpq's URLs
    if template is None:
        subprocess.run([sys.executable, script, "create", server, name], check=True)
    else:
        _pg(postgres, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield {"ACCORD_DATABASE_URL": _url(postgres, name)}
    finally:
        if keep:
            print(f"  kept PostgreSQL database {name}")
        else:
            subprocess.run([sys.executable, script, "drop", server, name], check=True)


def _url(postgres: str, name: str) -> str:
    return postgres.rsplit("/", 1)[0] + "/" + name


def cached_build(kind: str, args: argparse.Namespace) -> tuple[Path, str | None]:
    """With ``--build-cache``: the data directory (and PostgreSQL template database) of a
    pristine build of this size, made on first use and copied by later runs."""
    cache: Path = args.build_cache
    built = cache / f"{kind}-{args.items}"
    template = f"accord_concurrent_cache_{args.items}" if kind == "postgresql" else None
    if not built.exists():
        env: dict[str, str] = {}
        if template is not None:
            _pg(args.postgres_url, f"DROP DATABASE IF EXISTS {template}")
            _pg(args.postgres_url, f"CREATE DATABASE {template}")
            env = {"ACCORD_DATABASE_URL": _url(args.postgres_url, template)}
        print(f"{kind}: building {args.items:,} items into the cache {built}")
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f"{kind}-{args.items}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()  # on PostgreSQL nothing else may write to it
        build(partial, args.items, env)
        partial.rename(built)
    return built, template


@dataclass
class Figures:
    database: str
    per_second: float
    latency: dict[str, list[float]]
    statuses: Counter[str]
    invariants: dict[str, int]
    load: tuple[str, str]
    refused: dict[str, str]
    cpu_ms: float  # server CPU per acknowledged annotation


def measure(kind: str, root: Path, args: argparse.Namespace) -> Figures:
    data_dir = root / kind
    gold = gold_answers(args.items)
    built, template = cached_build(kind, args) if args.build_cache else (None, None)
    with database(kind, args.postgres_url, args.data_dir is not None, template) as env:
        if built is None:
            print(f"{kind}: building {args.items:,} items")
            build(data_dir, args.items, env)
        else:
            shutil.copytree(built, data_dir)
        admin_token = accord(data_dir, "user", "token", "admin", env=env).stdout.strip()
        log = root / f"{kind}-server.log"
        options = ("--workers", str(args.workers)) if kind == "postgresql" else ()
        with server_process(data_dir, *options, env=env, log=log) as (base, server):
            print(f"  server pid {server.pid}, log {log}")
            setup(base, admin_token, args.annotators)
            profiler = None
            if args.py_spy is not None:
                args.py_spy.mkdir(parents=True, exist_ok=True)
                delay = args.warmup + 3  # logins come first
                profiler = subprocess.Popen(
                    f"sleep {delay} && exec py-spy record --pid {server.pid} --duration "
                    f"{int(args.seconds)} --rate 50 --idle --threads --format raw "
                    f"--output {args.py_spy / (kind + '.txt')}",
                    shell=True,
                    env={
                        **os.environ,
                        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                    },
                )
            load_before = loadavg()
            run, measured_from = asyncio.run(
                drive(base, server.pid, args.annotators, args.warmup, args.seconds, gold)
            )
            load_after = loadavg()
            if profiler is not None:
                profiler.wait()
        url = env.get("ACCORD_DATABASE_URL") or f"sqlite:///{data_dir / 'accord.db'}"
        invariants = check(url, run)
    window = [c for c in run.calls if measured_from <= c.started < measured_from + args.seconds]
    acknowledged = sum(1 for c in window if c.kind == "submit" and c.status == "201")
    latency: dict[str, list[float]] = {}
    for c in window:
        latency.setdefault(c.kind, []).append(c.ms)
    statuses = Counter(f"{c.kind} {c.status}" for c in run.calls)
    return Figures(
        kind,
        acknowledged / args.seconds,
        latency,
        statuses,
        invariants,
        (load_before, load_after),
        run.refused,
        run.server_cpu * 1000 / max(acknowledged, 1),
    )


def report(results: list[Figures]) -> str:
    lines = [
        "| database | annotations/s | server CPU per annotation | load before / after |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.database} | {r.per_second:.1f} | {r.cpu_ms:.1f} ms | {r.load[0]} / {r.load[1]} |"
        for r in results
    ]
    lines += ["", "| database | call | calls | p50 ms | p95 ms | p99 ms | max ms |"]
    lines += ["|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        for k in ("next", "submit", "review-next", "review"):
            v = r.latency.get(k, [])
            if v:
                lines.append(
                    f"| {r.database} | {k} | {len(v):,} | {pct(v, 0.5):.1f} | {pct(v, 0.95):.1f} "
                    f"| {pct(v, 0.99):.1f} | {max(v):.1f} |"
                )
    lines += ["", "| database | responses (whole run, warm-up included) | invariant violations |"]
    lines += ["|---|---|---|"]
    for r in results:
        shown = ", ".join(f"{k}: {n:,}" for k, n in sorted(r.statuses.items()))
        bad = ", ".join(f"{k}: {n}" for k, n in r.invariants.items() if n) or "none"
        lines.append(f"| {r.database} | {shown} | {bad} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--annotators", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=POSTGRES, help="a server's maintenance database")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes on PostgreSQL (SQLite: one)"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="build here and keep (default: a temporary directory)"
    )
    parser.add_argument(
        "--build-cache",
        type=Path,
        help="keep the imported project here (PostgreSQL: a template database) and reuse it",
    )
    parser.add_argument(
        "--py-spy", type=Path, help="sample the server with py-spy into this directory"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave RESULTS.md alone"
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results: list[Figures] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for kind in kinds:
            results.append(measure(kind, root, args))
            print(report(results[-1:]))
            if results[-1].refused:
                print("  first refusal per kind:", json.dumps(results[-1].refused, indent=1))
                log = (root / f"{kind}-server.log").read_text()
                print("  server log, last lines:\n" + "\n".join(log.splitlines()[-40:]))
    table = report(results)
    print(table)
    if args.no_write:
        return
    write_section(
        "Concurrent annotators: 30 at once over HTTP, 500,000-item project",
        f"""Command: `python benchmarks/annotate_concurrent.py` (commit {git_commit()}).
Machine: {machine()}.
Server: `accord serve` (uvicorn; SQLite: one process, WAL with synchronous=FULL; PostgreSQL on
the same machine: {args.workers} process(es)). {args.items:,} items of which 5% gold,
overlap 3, gold rate 0.05, review policy sample at 0.1; {args.annotators} annotators logged in
like the browser, each looping next -> submit without pause over its own keep-alive
connection, and one reviewer (10% rejected); {args.seconds:.0f} s measured after
{args.warmup:.0f} s of warm-up. Clients, server and database share the machine's cores; "load"
is /proc/loadavg before and after; server CPU is the CPU time of the server's processes in the
measured window (not the database's).

{table}

The invariants are checked with SQL after each run: no ordinary item with more than 3 current
answers, no (item, annotator) pair twice, every acknowledged annotation and verdict stored, the
items' counters equal to their assignments.
""",
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
