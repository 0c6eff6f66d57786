"""What an ingest may take over from the last published one instead of reading its files again.

An ingest's output is a function of its input files, the source's spec file, the erasure requests
and tombstones, and the code (`IngestInputs`): each file is named by its path and the SHA-256 of
its bytes, so an edit that keeps a file's size and time (`touch -r`, a restore from a backup) is
an edit. The published folder keeps its inputs, the run's counts and the SHA-256 of each table it
wrote in its ingest state. A run with the same inputs reuses that folder, tables checked byte for
byte, instead of reading the files. A run whose first files (in reading order) are the last run's,
with the same spec, erasure state and code, takes those files' rows over from the last run's
tables and reads only the files after them (`ingest.files.ingest_files`): a file added to a
source whose files sort by name or date is the only one read. Each file is hashed once per run
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
from born_assets.store.parallel import ordered_thread_map
from born_assets.store.unchanged import file_sha256

HASHING_THREADS = 2
"""Files hashed at once: SHA-256 and the reads release the GIL, so two files hash on two cores
(the bench's lane with a file added, 300 and 100 MB: 0.92 s in one thread)."""


@dataclass(frozen=True)
class IngestInputs:
    """What an ingest's output is a function of: its files in reading order, and the rest."""

    files: tuple[tuple[str, str], ...]
    """Each file's path under the data dir and the SHA-256 of its bytes."""
    base: str
    """The hash of the spec, the erasure state and the code."""

    @classmethod
    def of(cls, data: DataDir, files: list[Path], spec_hash: str) -> IngestInputs:
        """The inputs of an ingest of `files` (in reading order) under the spec `spec_hash`."""
        base = json.dumps([spec_hash, erasure_version(data), code_version()])
        hashes = ordered_thread_map(file_sha256, files, min(len(files), HASHING_THREADS))
        return cls(
            tuple(
                (data.relative(path), digest) for path, digest in zip(files, hashes, strict=True)
            ),
            hashlib.sha256(base.encode("utf-8")).hexdigest(),
        )

    def files_shared(self, before: IngestInputs) -> int:
        """How many of the first files an ingest of `before` read as this one would read them.

        Those files' rows, quarantined lines and ledger entries are the same in both: the files
        before them are the same, so is every id seen before them (a repeated line's fate). 0
        when the spec, the erasure state or the code changed.
        """
        if self.base != before.base:
            return 0
        shared = 0
        for mine, theirs in zip(self.files, before.files, strict=False):
            if mine != theirs:
                break
            shared += 1
        return shared


def _outputs(folder: Path) -> dict[str, str]:
    """The SHA-256 of each table in an ingest folder (a table changed since in any way shows)."""
    return {path.name: file_sha256(path) for path in sorted(folder.glob("*.parquet"))}


@dataclass(frozen=True)
class IngestState:
    """What a published ingest folder remembers: its inputs and its counts."""

    inputs: IngestInputs
    summary: IngestSummary

    def write(self, folder: Path) -> None:
        """Save into the (staging) folder the ingest was written to, once its tables are."""
        counts = {**vars(self.summary), "quarantined": dict(self.summary.quarantined)}
        raw = {
            "base": self.inputs.base,
            "files": [list(f) for f in self.inputs.files],
            "summary": counts,
            "outputs": _outputs(folder),
        }
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
            inputs = IngestInputs(tuple((str(p), str(h)) for p, h in raw["files"]), raw["base"])
            if raw["outputs"] != _outputs(folder):
                return None
            return cls(inputs, summary)
        except (OSError, ValueError, KeyError, TypeError):
            return None
