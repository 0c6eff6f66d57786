"""What each line of a synthetic corpus is: its role, its text, and (for a few) how it is broken.

Every decision is a pure function of (seed, global row index), so any row can be rebuilt on its
own: a duplicate prompt is the regenerated prompt of a plain row in another lane. Global indexes
number the lanes' rows in `LANES` order, then the import's.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from bench.layout import (
    IMPORT_FAMILY,
    IMPORT_ID,
    IMPORT_MODEL,
    LANES,
    TASKS_PER_LANE,
    CorpusSpec,
    LaneDef,
)
from bench.responses import Pools, response_text
from bench.texts import CodeFault, ResponseShape, Thinking, prompt_text
from born_assets.schemas.vocabulary import QuarantineReason as Q

LANE_KINDS = (  # every way a lane line can be refused (ingest), or emptied (sanitize)
    Q.NOT_UTF8,
    Q.EMPTY_LINE,
    Q.UNPARSEABLE_JSON,
    Q.NOT_AN_OBJECT,
    Q.MISSING_FIELD,
    Q.MISTYPED_FIELD,
    Q.UNKNOWN_TASK,
    Q.TEACHER_MISMATCH,
    Q.SOURCE_TYPE_MISMATCH,
    Q.PROMPT_HASH_MISMATCH,
    Q.MISSING_PROVENANCE,
    Q.BAD_TIMESTAMP,
    Q.DUPLICATE_LINE,
    Q.EMPTY_VISIBLE_CONTENT,
)
IMPORT_KINDS = (Q.FORMAT_MISMATCH,)  # only an import's adapter refuses a record's shape
_MASK = (1 << 64) - 1
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Role(StrEnum):
    """What a well-formed row is for."""

    PLAIN = "plain"
    DUPLICATE = "duplicate"  # its prompt repeats a plain row of another lane
    SYNTAX_ERROR = "syntax_error"
    OPEN_FENCE = "open_fence"
    REFUSAL = "refusal"


GATED_ROLES = {Role.SYNTAX_ERROR: CodeFault.SYNTAX_ERROR, Role.OPEN_FENCE: CodeFault.OPEN_FENCE}
GATED_ROLES[Role.REFUSAL] = CodeFault.REFUSAL


def mix(*values: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap, seeded randomness per row."""
    x = 0x9E3779B97F4A7C15
    for value in values:
        x = (x ^ (value & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
        x ^= x >> 31
    return x


def unit(*values: int) -> float:
    """A float in [0, 1) from `mix`."""
    return mix(*values) / 2.0**64


@dataclass(frozen=True)
class Source:
    """A lane or the import, with its global index range."""

    name: str
    lane: LaneDef | None
    offset: int
    rows: int


class Corpus:
    """The roles and contents of every row of one `CorpusSpec`."""

    def __init__(self, spec: CorpusSpec, pools: Pools | None = None) -> None:
        self.spec = spec
        self._pools = pools
        counts = spec.lane_rows()
        sources, offset = [], 0
        for lane in (*LANES, None):
            name = lane.lane_id if lane else IMPORT_ID
            sources.append(Source(name, lane, offset, counts[name]))
            offset += counts[name]
        self.sources: tuple[Source, ...] = tuple(sources)
        self.file_starts = frozenset(
            s.offset + start for s in self.sources for start, _ in spec.files(s.name)
        )

    @cached_property
    def pools(self) -> Pools:
        """The seeded sentence and code pools (built on first use: about half a second)."""
        return self._pools or Pools.build(self.spec.seed)

    @property
    def lane_sources(self) -> tuple[Source, ...]:
        """The lanes, without the import."""
        return self.sources[:-1]

    def per_kind(self) -> int:
        """Malformed lines of each quarantine kind."""
        kinds = len(LANE_KINDS) + len(IMPORT_KINDS)
        return max(1, round(self.spec.bad_share * self.spec.rows / kinds))

    @cached_property
    def bad(self) -> dict[int, Q]:
        """Global index -> the quarantine kind of each malformed line (never a file's first)."""
        rng = random.Random(self.spec.seed + 1)
        out: dict[int, Q] = {}
        for kinds, sources in ((LANE_KINDS, self.lane_sources), (IMPORT_KINDS, self.sources[-1:])):
            pool = [i for s in sources for i in range(s.offset, s.offset + s.rows)]
            picks = rng.sample(
                [i for i in pool if i not in self.file_starts], len(kinds) * self.per_kind()
            )
            for n, index in enumerate(sorted(picks)):
                out[index] = kinds[n % len(kinds)]
        return out

    def role(self, index: int) -> Role:
        """The role of a well-formed row (a file's first row is always plain)."""
        if index in self.file_starts:
            return Role.PLAIN
        u, spec = unit(self.spec.seed, index, 1), self.spec
        is_lane = index < self.sources[-1].offset
        for role, share in (
            (Role.DUPLICATE, spec.duplicate_share if is_lane else 0.0),
            (Role.SYNTAX_ERROR, spec.syntax_error_share),
            (Role.OPEN_FENCE, spec.open_fence_share),
            (Role.REFUSAL, spec.refusal_share),
        ):
            if u < share:
                return role
            u -= share
        return Role.PLAIN

    def source_of(self, index: int) -> Source:
        """The lane or import holding a global index."""
        for source in self.sources:
            if index < source.offset + source.rows:
                return source
        raise IndexError(index)

    def duplicate_source(self, index: int, lane_number: int) -> int:
        """A plain, well-formed row of another lane whose prompt this row repeats."""
        lanes = self.lane_sources
        h = mix(self.spec.seed, index, 2)
        other = lanes[(lane_number + 1 + h % (len(lanes) - 1)) % len(lanes)]
        j = (h >> 16) % other.rows
        for step in range(other.rows):
            candidate = other.offset + (j + step) % other.rows
            if candidate not in self.bad and self.role(candidate) is Role.PLAIN:
                return candidate
        raise ValueError(f"lane {other.name} has no plain row to duplicate")

    def prompt(self, index: int, family: str | None = None) -> str:
        """The prompt generated for a global index (also used by its duplicates)."""
        rng = random.Random(mix(self.spec.seed, index, 3))
        if family is None:
            lane = self.source_of(index).lane
            family = lane.family if lane else IMPORT_FAMILY
        return prompt_text(rng, self.pools.prompt, family, 200 + rng.randrange(2801))

    def thinking(self, index: int) -> Thinking:
        """Whether and how a well-formed response carries `<think>` reasoning."""
        u = unit(self.spec.seed, index, 4)
        if u >= self.spec.think_share:
            return Thinking.NONE
        unclosed = u < self.spec.think_share * self.spec.unclosed_share
        return Thinking.TRAILING_UNCLOSED if unclosed else Thinking.CLOSED

    def response(self, index: int, role: Role, thinking: Thinking) -> str:
        """The response of a row."""
        rng = random.Random(mix(self.spec.seed, index, 5))
        shape = ResponseShape(
            500 + rng.randrange(14_501), thinking, GATED_ROLES.get(role, CodeFault.NONE)
        )
        return response_text(rng, self.pools, shape)


def timestamp(index: int) -> str:
    """The generation time of a row, ISO 8601 in UTC."""
    return (_EPOCH + timedelta(seconds=7 * index)).strftime("%Y-%m-%dT%H:%M:%SZ")


def lane_record(lane: LaneDef, index: int, prompt: str, response: str) -> dict[str, Any]:
    """One teacher lane JSONL row; about half carry their prompt hash, a third their type."""
    h = mix(index, 6)
    row: dict[str, Any] = {
        "task_id": f"{lane.task_prefix}/{h % TASKS_PER_LANE}",
        "prompt": prompt,
        "response": response,
        "teacher_model": lane.model,
        "generator_version": lane.version,
        "generation_timestamp": timestamp(index),
        "sampling_params": {"temperature": 0.2, "top_p": 0.95, "seed": index % 997},
    }
    if h >> 32 & 1:
        row["prompt_hash"] = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
    if h >> 33 & 3 == 0:
        row["source_type"] = "synthetic"
    return row


def import_record(index: int, prompt: str, response: str | None) -> dict[str, Any]:
    """One prompt/response import row."""
    return {
        "id": f"pair-{index}",
        "prompt": prompt,
        "response": response,
        "model": IMPORT_MODEL,
        "created": timestamp(index),
    }


def break_record(
    kind: Q, row: dict[str, Any], line: bytes, first_line: bytes
) -> bytes | list[Any] | dict[str, Any]:
    """A malformed line of `kind` made from a well-formed `row` (its JSON is `line`)."""
    if kind is Q.NOT_UTF8:
        return line.replace(b'"prompt":"', b'"prompt":"caf\xe9 ', 1)
    if kind is Q.EMPTY_LINE:
        return b""
    if kind is Q.UNPARSEABLE_JSON:
        return line[: len(line) // 2]
    if kind is Q.DUPLICATE_LINE:
        return first_line
    if kind is Q.NOT_AN_OBJECT:
        return [row["task_id"], row["prompt"][:40]]
    return _broken_field(kind, row)


_FIELD_FAULTS: dict[Q, tuple[str, Any]] = {
    Q.MISSING_FIELD: ("response", None),
    Q.MISTYPED_FIELD: ("response", 42),
    Q.TEACHER_MISMATCH: ("teacher_model", "gpt-3.5-turbo"),
    Q.SOURCE_TYPE_MISMATCH: ("source_type", "human_edited"),
    Q.MISSING_PROVENANCE: ("teacher_model", None),
    Q.BAD_TIMESTAMP: ("generation_timestamp", "2026-01-05 10:00:00"),
    Q.FORMAT_MISMATCH: ("response", None),
}


def _broken_field(kind: Q, row: dict[str, Any]) -> dict[str, Any]:
    broken = dict(row)
    if kind is Q.UNKNOWN_TASK:
        broken["task_id"] = row["task_id"].split("/")[0] + "/unassigned"
    elif kind is Q.PROMPT_HASH_MISMATCH:
        broken["prompt_hash"] = hashlib.sha256(row["prompt"].encode() + b" ").hexdigest()
    elif kind in (Q.MISSING_FIELD, Q.MISSING_PROVENANCE):
        del broken[_FIELD_FAULTS[kind][0]]
    else:
        field, value = _FIELD_FAULTS[kind]
        broken[field] = value
    return broken
