"""The ledger of issued release versions: a version name, once issued, is never issued again.

One JSON line per version, appended and synced before the release becomes visible, so a crash
at any moment after cannot free the name: a release lost or deleted later still holds it. A line
a crash cut short was never issued: it is ended by the next append and skipped when read.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from born_assets.layout import DataDir
from born_assets.store.atomic import fsync_dir, restore_retired


def issued_versions(data: DataDir) -> dict[str, str]:
    """Version -> the input fingerprint it was issued for, from the ledger."""
    path = data.version_ledger
    if not path.is_file():
        return {}
    issued: dict[str, str] = {}
    complete = path.read_text(encoding="utf-8").split("\n")[:-1]  # a torn last line: not issued
    for line in complete:
        try:
            entry = json.loads(line)
            issued.setdefault(entry["version"], entry["input_fingerprint"])
        except (ValueError, KeyError, TypeError):  # blank, or torn and ended by a later append
            continue
    return issued


def record_issued(data: DataDir, version: str, fingerprint: str) -> None:
    """Append `version` to the ledger and sync it (a no-op when it is there already)."""
    if version in issued_versions(data):
        return
    path = data.version_ledger
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "version": version,
        "input_fingerprint": fingerprint,
        "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
    if path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        line = b"\n" + line  # end a line a crash cut short, so this entry stands on its own
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


def recover_releases(data: DataDir) -> None:
    """Put back every issued release whose swap to a link a crash cut short."""
    for version in issued_versions(data):
        restore_retired(data.release(version).path)
