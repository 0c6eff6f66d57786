"""What a run may take over from the last published one instead of computing it again.

An ingest's output is a function of its input files, the source's spec file, the erasure requests
and tombstones, and the code. `ingest_key` hashes all of them, each file by its path, size and
modification time (as `make` does: a file written again gets a new mtime, so it is read again);
the published folder keeps the key and the run's counts in `ingest.json`, and a run whose key is
the same reuses that folder instead of reading the files. The code is known by `code_version`, a
hash of the package's sources, so any code change invalidates everything built before it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import astuple, dataclass
from pathlib import Path

from born_assets.governance.erasure import REQUESTS_FILE, load_tombstones
from born_assets.ingest.files import IngestSummary

CODE_PACKAGE = Path(__file__).resolve().parents[1]
INGEST_STATE = "ingest.json"


def code_version(package: Path = CODE_PACKAGE) -> str:
    """SHA-256 over the package's Python sources (paths and bytes), the same on every clone."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def erasure_version(data_dir: Path) -> str:
    """SHA-256 over the erasure requests file and the tombstones (none and absent are alike)."""
    requests = data_dir / REQUESTS_FILE
    stones = sorted(astuple(stone) for stone in load_tombstones(data_dir))
    payload = [requests.read_text(encoding="utf-8") if requests.is_file() else "", stones]
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


def ingest_key(data_dir: Path, files: list[Path], spec_hash: str) -> str:
    """The key of one ingest's inputs: files (path, size, mtime), spec, erasure state, code."""
    listing = []
    for path in files:
        stat = path.stat()
        listing.append([path.relative_to(data_dir).as_posix(), stat.st_size, stat.st_mtime_ns])
    payload = [spec_hash, erasure_version(data_dir), code_version(), listing]
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
        (folder / INGEST_STATE).write_text(json.dumps(raw, sort_keys=True), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> IngestState | None:
        """The state of a published folder, if any.

        None when there is none, it is unreadable, or a table changed after it was written.
        """
        try:
            raw = json.loads((folder / INGEST_STATE).read_text(encoding="utf-8"))
            counts = raw["summary"]
            summary = IngestSummary(**{**counts, "quarantined": Counter(counts["quarantined"])})
            if raw["outputs"] != _outputs(folder):
                return None
            return cls(raw["key"], summary)
        except (OSError, ValueError, KeyError, TypeError):
            return None
