"""What an ingest may take over from the last published one instead of reading its files again.

An ingest's output is a function of its input files, the source's spec file, the erasure requests
and tombstones, and the code. `ingest_key` hashes all of them, each file by its path and the
SHA-256 of its bytes: an edit that keeps a file's size and time (`touch -r`, a restore from a
backup) is an edit. The published folder keeps the key, the run's counts and the SHA-256 of each
table it wrote in its ingest state, and a run whose key is the same reuses that folder, tables
checked byte for byte, instead of reading the files. Each file is hashed once per run
(`store.unchanged.file_sha256`): 1 GB of JSONL at ~1.5 GB/s.
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
from born_assets.store.unchanged import file_sha256


def ingest_key(data: DataDir, files: list[Path], spec_hash: str) -> str:
    """The key of one ingest's inputs: files (path, content hash), spec, erasure state, code."""
    listing = [[data.relative(path), file_sha256(path)] for path in files]
    payload = [spec_hash, erasure_version(data), code_version(), listing]
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


def _outputs(folder: Path) -> dict[str, str]:
    """The SHA-256 of each table in an ingest folder (a table changed since in any way shows)."""
    return {path.name: file_sha256(path) for path in sorted(folder.glob("*.parquet"))}


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
