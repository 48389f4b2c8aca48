"""Fetch the pinned browser libraries from the npm registry into web/static/vendor/.

    python scripts/fetch_vendor.py [--check]

VENDOR.json names each package, its exact version, its licence and the files to copy out of the
package. The tarball is verified against the registry's published integrity hash before anything
is extracted. With --check, nothing is written: the command fails if a vendored file differs from
what the pinned version contains.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src" / "accord" / "web" / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
        return data


def verified_tarball(name: str, version: str) -> bytes:
    meta = json.loads(fetch(f"{REGISTRY}/{name}/{version}"))
    tarball = fetch(meta["dist"]["tarball"])
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{name}@{version}: integrity mismatch ({algorithm})")
    return tarball


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    pins = json.loads((VENDOR / "VENDOR.json").read_text())
    stale = []
    for name, pin in pins.items():
        tarball = verified_tarball(name, pin["version"])
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for inner, target in pin["files"].items():
                member = archive.extractfile(f"package/{inner}")
                if member is None:
                    raise SystemExit(f"{name}@{pin['version']} has no {inner}")
                content = member.read()
                path = VENDOR / target
                if args.check:
                    if not path.exists() or path.read_bytes() != content:
                        stale.append(target)
                else:
                    path.write_bytes(content)
                    print(f"{name}@{pin['version']} ({pin['license']}): {inner} -> {target}")
    if stale:
        print("differs from the pinned versions: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
