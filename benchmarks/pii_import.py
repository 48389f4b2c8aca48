"""What the personal-data policy costs an import: 100,000 text rows (the SST-2 sentences, then
again with a word appended so that no row repeats) of which every 20th carries an e-mail
address and a phone number, imported into SQLite under each policy (off, flag, mask, redact).
With ``--meta`` every row also has metadata (``source``, ``split``), and every 20th row's
metadata an e-mail address (``contact``), which the policy applies to as well.

    python benchmarks/pii_import.py [--rows 100000] [--meta] [--no-write]

Detection runs in the import's background thread (core/imports.py ``_prepare``) while the
database writes the previous chunk. Reports the import's wall time (best of 3), the overhead
against ``off``, and the detection alone on one thread (what it would add without the overlap).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import git_commit, machine, sentences, write_section

from accord.config import Settings
from accord.core import imports, personal_data, projects, users
from accord.db.engine import open_database
from accord.db.migrate import upgrade
from accord.io import ImportRecord

SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {"name": "sentiment", "type": "choices", "field": "text", "labels": ["pos", "neg"]}
    ],
}
POLICIES = ("off", "flag", "mask", "redact")
EVERY = 20
REPEATS = 3


def rows(n: int) -> list[str]:
    pool = sentences()
    out: list[str] = []
    for i in range(n):
        text = pool[i % len(pool)] + " again" * (i // len(pool))
        if i % EVERY == 0:
            text += f" write to reader{i}@example.org or call +44 20 7946 {i % 10_000:04d}"
        out.append(text)
    return out


def metadata(n: int) -> list[dict[str, str]]:
    """Each row's metadata for ``--meta``: every 20th holds an e-mail address."""
    out = []
    for i in range(n):
        meta = {"source": "sst2", "split": "train"}
        if i % EVERY == 0:
            meta["contact"] = f"sender{i}@example.net"
        out.append(meta)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--meta", action="store_true", help="give every row metadata too")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    texts = rows(args.rows)
    metas = metadata(len(texts)) if args.meta else [{} for _ in texts]
    load_before = os.getloadavg()[0]
    seconds: dict[str, float] = {}
    stored = 0
    found: dict[str, personal_data.Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        db = open_database(settings)
        upgrade(db.url)
        with db.transaction() as session:
            owner = users.create_user(session, "bench", "benchmark-pass", is_admin=True)
            owner_id = owner.id
        for repeat in range(REPEATS):
            for policy in POLICIES:
                with db.transaction() as session:
                    user = users.get_user(session, owner_id)
                    project = projects.create_project(
                        session, user, f"{policy}-{repeat}", SCHEMA, pii_policy=policy
                    )
                    project_id = project.id
                records = (
                    ImportRecord(i + 1, {"text": t}, dict(m))
                    for i, (t, m) in enumerate(zip(texts, metas, strict=True))
                )
                started = time.perf_counter()
                report = imports.run_import(
                    db, project_id, owner_id, records, source="bench", format="json"
                )
                took = time.perf_counter() - started
                assert report.n_items + report.n_duplicates == len(texts)
                stored = report.n_items
                seconds[policy] = min(seconds.get(policy, float("inf")), took)
        db.dispose()
    scan = {}
    for policy in POLICIES[1:]:
        scanner = personal_data.Scanner(policy)
        tally = personal_data.Tally(policy)
        records = [
            ImportRecord(i + 1, {"text": t}, dict(m))
            for i, (t, m) in enumerate(zip(texts, metas, strict=True))
        ]
        started = time.perf_counter()
        _, entities = personal_data.scan_records(records, scanner)
        scan[policy] = time.perf_counter() - started
        tally.add(entities)
        found[policy] = tally

    base = seconds["off"]
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    with_meta = (
        f" and has an e-mail address in its metadata (every row has metadata: `source`, "
        f"`split`, and `contact` in every {EVERY}th). "
        if args.meta
        else ". "
    )
    lines = [
        f"Machine: {machine()}. Command: `python benchmarks/pii_import.py"
        f"{' --meta' if args.meta else ''}` (commit {git_commit()}).",
        "",
        f"{len(texts):,} text rows imported in-process into SQLite (`imports.run_import`, "
        "synchronous=FULL, chunks of 5,000), a fresh project per run, best of "
        f"{REPEATS} runs per policy. Rows: the SST-2 sentences, then again with ` again` "
        f"appended; every {EVERY}th row ends with an e-mail address and a phone number"
        f"{with_meta}"
        "Detection (`accord.automation.pii.detect`) runs only on text that could hold an "
        "entity (`@` or `:` with a digit, four digits or more, an IBAN start, or `www.`); "
        "it runs in the import's background thread, overlapping the writes. "
        "`detection alone` is the same scan on one thread without the database. "
        f"Load average during the run (other processes on the machine): {load}; the overlap "
        "only hides the detection when a core is free for the import's background thread.",
        "",
        f"Items stored per run: {stored:,} (the rest repeat a row byte for byte).",
        "",
        "| policy | import seconds | rows/s | overhead vs off | items with PII | entities "
        "| detection alone (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for policy in POLICIES:
        t = seconds[policy]
        tally = found.get(policy)
        overhead = "—" if policy == "off" else f"{(t - base) / base:+.1%}"
        lines.append(
            f"| {policy} | {t:.2f} | {len(texts) / t:,.0f} | {overhead} | "
            f"{tally.items if tally else 0:,} | {sum(tally.kinds.values()) if tally else 0:,} | "
            f"{scan[policy]:.2f} |"
            if policy != "off"
            else f"| off | {t:.2f} | {len(texts) / t:,.0f} | — | — | — | — |"
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Personal data at import", body)


if __name__ == "__main__":
    sys.exit(main())
