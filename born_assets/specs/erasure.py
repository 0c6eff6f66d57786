"""Erasure requests: what to erase, matching rows against them, and the tombstones that stay.

Requests live in `<data_dir>/erasure/requests.yaml` (validated like every spec: an error names
the file and the field). Each names exactly one target: an example id, a benchmark task
(`source_benchmark` + `source_id`), a row of an import (`import_id` + `import_row_id`, the
source's own id), a whole lane or import (`origin`, e.g. `imports/glaive-toolcall-demo`), or a
regular expression over the prompt and response text. Once a row was erased, its tombstone (the
example id and the SHA-256 of its raw line, never its content) stays in
`<data_dir>/erasure/tombstones.parquet`, so the row is refused even if the request is removed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml
from pydantic import Field, field_validator, model_validator

from born_assets.layout import SOURCE_GROUPS, DataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.specs.common import SpecError, StrictModel, parse_spec

REQUEST_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ErasureTarget(StrictModel):
    """Exactly one kind of target: see the module docstring."""

    example_id: str | None = None
    source_benchmark: str | None = None
    source_id: str | None = None
    import_id: str | None = None
    import_row_id: str | None = None
    origin: str | None = Field(default=None, pattern=r"^(lanes|imports)/[A-Za-z0-9_.-]+$")
    pattern: str | None = None

    @field_validator(
        "example_id", "source_benchmark", "source_id", "import_id", "import_row_id", "origin"
    )
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty (an empty target erases nothing)")
        return value

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regular expression: {error}") from error
            if compiled.search("") is not None:
                raise ValueError("must not match the empty string (it would match every row)")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> ErasureTarget:
        kinds = [
            self.example_id is not None,
            (self.source_benchmark, self.source_id) != (None, None),
            (self.import_id, self.import_row_id) != (None, None),
            self.origin is not None,
            self.pattern is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "name exactly one target: example_id, source_benchmark+source_id, "
                "import_id+import_row_id, origin, or pattern"
            )
        pairs = [("source_benchmark", "source_id"), ("import_id", "import_row_id")]
        for first, second in pairs:
            if (getattr(self, first) is None) != (getattr(self, second) is None):
                raise ValueError(f"{first} and {second} go together")
        return self


class ErasureRequest(StrictModel):
    """One request: who asked, why, when, and what to erase."""

    id: str = Field(pattern=REQUEST_ID)
    requester: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    requested_at: datetime
    target: ErasureTarget


class ErasureRequests(StrictModel):
    """The requests file."""

    requests: list[ErasureRequest] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> ErasureRequests:
        ids = [r.id for r in self.requests]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"request ids must be unique; repeated: {repeated}")
        return self


def load_requests(data: DataDir) -> ErasureRequests | SpecError:
    """The requests of a data dir (none when the file does not exist)."""
    path = data.erasure_requests
    if not path.exists():
        return ErasureRequests()
    parsed = parse_spec(path, ErasureRequests)
    return parsed if isinstance(parsed, SpecError) else parsed[0]


@dataclass(frozen=True)
class Tombstone:
    """What stays of an erased row: hashes and the request, never content."""

    example_id: str
    raw_sha256: str
    request_id: str


def load_tombstones(data: DataDir) -> list[Tombstone]:
    """Every tombstone recorded so far."""
    path = data.tombstones
    if not path.exists():
        return []
    return [Tombstone(**row) for row in pq.read_table(path).to_pylist()]


@dataclass
class ErasureFilter:
    """Decides, for a parsed row, whether a request or a tombstone erases it."""

    requests: list[ErasureRequest] = field(default_factory=list)
    tombstones: Mapping[str, str] = field(default_factory=dict)  # example_id or raw hash -> request

    def __post_init__(self) -> None:
        self._by_example = {
            r.target.example_id: r.id for r in self.requests if r.target.example_id is not None
        }
        self._by_task = {
            (r.target.source_benchmark, r.target.source_id): r.id
            for r in self.requests
            if r.target.source_benchmark is not None
        }
        self._by_import_row = {
            (r.target.import_id, r.target.import_row_id): r.id
            for r in self.requests
            if r.target.import_id is not None
        }
        self._by_origin = {
            r.target.origin: r.id for r in self.requests if r.target.origin is not None
        }
        self._patterns = [
            (re.compile(r.target.pattern), r.id)
            for r in self.requests
            if r.target.pattern is not None
        ]

    @classmethod
    def load(cls, data: DataDir) -> ErasureFilter:
        """The filter for a data dir; raises `ValueError` naming the file and field if invalid."""
        requests = load_requests(data)
        if isinstance(requests, SpecError):
            raise ValueError(str(requests))
        stones: dict[str, str] = {}
        for stone in load_tombstones(data):
            stones[stone.example_id] = stone.request_id
            stones[stone.raw_sha256] = stone.request_id
        return cls(list(requests.requests), stones)

    def request_for(self, row: Mapping[str, Any], raw_sha256: str) -> str | None:
        """The id of the request that erases `row` (a lineage row), or None."""
        found = (
            self.tombstones.get(row["example_id"])
            or self.tombstones.get(raw_sha256)
            or self._by_example.get(row["example_id"])
            or self._by_task.get((row["source_benchmark"], row["source_id"]))
            or self._by_origin.get(f"{SOURCE_GROUPS[row['origin_kind']]}/{row['origin_id']}")
        )
        if found is None and row["origin_kind"] == "import":
            found = self._by_import_row.get((row["origin_id"], row["source_id"]))
        if found is None:
            text = (row["prompt"], row["response"])
            found = next(
                (rid for rx, rid in self._patterns if any(rx.search(t) for t in text)), None
            )
        return found

    def request_for_line(self, origin: str, raw: bytes) -> str | None:
        """The request that erases a line that never became a row (it did not parse).

        Such a line has no ids, so only a whole-origin request (`lanes/x`, `imports/y`), a
        tombstone of its raw hash, or a pattern over its text can cover it.
        """
        text = raw.decode("utf-8", errors="replace")
        return (
            self._by_origin.get(origin)
            or self.tombstones.get(sha256_hex(raw))
            or next((rid for rx, rid in self._patterns if rx.search(text)), None)
        )

    def is_empty(self) -> bool:
        """True when nothing can be erased (the common case: skip the work)."""
        return not self.requests and not self.tombstones


def append_request(data: DataDir, request: ErasureRequest) -> Path:
    """Add a request to the requests file (text is appended, so comments in the file stay)."""
    path = data.erasure_requests
    existing = load_requests(data)
    if isinstance(existing, SpecError):
        raise ValueError(str(existing))
    if request.id in {r.id for r in existing.requests}:
        raise ValueError(f"{path}: request id {request.id!r} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or not existing.requests:
        path.write_text("# Erasure requests (see README: Erasure).\nrequests:\n", encoding="utf-8")
    entry = request.model_dump(mode="json", exclude_none=True)
    entry["target"] = {k: v for k, v in entry["target"].items() if v is not None}
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(f"  {line}\n" for line in block.splitlines()))
    return path


def erasure_version(data: DataDir) -> str:
    """SHA-256 over the erasure requests file and the tombstones (none and absent are alike)."""
    requests = data.erasure_requests
    stones = sorted(astuple(stone) for stone in load_tombstones(data))
    payload = [requests.read_text(encoding="utf-8") if requests.is_file() else "", stones]
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()
