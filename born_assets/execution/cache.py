"""Results by (code hash, test hash, environment hash): a rerun executes only new code.

One small JSON file per key under the cache folder (`<ab>/<key>.json`), written to a temporary
name and renamed, so concurrent runs and crashes never leave a torn entry. The entry holds the
verdict and the measurements of the run that produced it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from born_assets.schemas.identity import sha256_hex
from born_assets.store.json_state import read_json_object


def cache_key(code_sha256: str, tests_sha256: str, environment_sha256: str) -> str:
    """The key of one result."""
    return sha256_hex(f"{code_sha256}\0{tests_sha256}\0{environment_sha256}".encode())


class ResultCache:
    """A folder of results keyed by `cache_key`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result, or None (missing or unreadable entries are misses)."""
        return read_json_object(self._path(key))

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Store a result atomically."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(result, out, sort_keys=True)
        Path(temporary).replace(path)
