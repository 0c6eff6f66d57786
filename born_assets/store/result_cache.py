"""A folder of small JSON results by content key: a rerun computes only what it has not seen.

One file per key (`<ab>/<key>.json`), written to a temporary name and renamed, so concurrent runs
and crashes never leave a torn entry. The key names everything a result depends on (content
hashes, versions), so an entry is never stale: other inputs make another key. The sandboxed test
results (`execution`) and the asset checks' results (`defs.checks`) are kept this way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from born_assets.store.atomic import write_file
from born_assets.store.json_state import read_json_object


class ResultCache:
    """A folder of JSON results, one per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result, or None (missing or unreadable entries are misses)."""
        return read_json_object(self._path(key))

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Store a result atomically."""
        write_file(self._path(key), json.dumps(result, sort_keys=True).encode("utf-8"))
