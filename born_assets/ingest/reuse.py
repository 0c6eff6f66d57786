"""What an ingest may take over from the last published one instead of reading its files again.

An ingest's output is a function of its input files, the source's spec file, the erasure requests
and tombstones, and the code. `ingest_key` hashes all of them, each file by its path, size and
modification time (as `make` does: a file written again gets a new mtime, so it is read again);
the published folder keeps the key and the run's counts in its ingest state, and a run whose key
is the same reuses that folder instead of reading the files.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from born_assets import layout
from born_assets.ingest.files import IngestSummary
from born_assets.layout import DataDir
from born_assets.specs.erasure import erasure_version
from born_assets.store.memo import code_version


def ingest_key(data: DataDir, files: list[Path], spec_hash: str) -> str:
    """The key of one ingest's inputs: files (path, size, mtime), spec, erasure state, code."""
    listing = []
    for path in files:
        stat = path.stat()
        listing.append([data.relative(path), stat.st_size, stat.st_mtime_ns])
    payload = [spec_hash, erasure_version(data), code_version(), listing]
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


def _outputs(folder: Path) -> dict[str, list[int]]:
    """Size and mtime of each table in an ingest folder (a table rewritten since shows)."""
    return {
        path.name: [path.stat().st_size, path.stat().st_mtime_ns]
        for path in sorted(folder.glob("*.parquet"))
    }


@dataclass(frozen=True)
class IngestState:
    """What a published ingest folder remembers: the key of its inputs and its counts."""

    key: str
    summary: IngestSummary

    def write(self, folder: Path) -> None:
        """Save into the (staging) folder the ingest was written to, once its tables are."""
        counts = {**vars(self.summary), "quarantined": dict(self.summary.quarantined)}
        raw = {"key": self.key, "summary": counts, "outputs": _outputs(folder)}
        (folder / layout.INGEST_STATE).write_text(json.dumps(raw, sort_keys=True), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> IngestState | None:
        """The state of a published folder, if any.

        None when there is none, it is unreadable, or a table changed after it was written.
        """
        try:
            raw = json.loads((folder / layout.INGEST_STATE).read_text(encoding="utf-8"))
            counts = raw["summary"]
            summary = IngestSummary(**{**counts, "quarantined": Counter(counts["quarantined"])})
            if raw["outputs"] != _outputs(folder):
                return None
            return cls(raw["key"], summary)
        except (OSError, ValueError, KeyError, TypeError):
            return None
