"""What the contamination checks found for one training row, and how it is kept between runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from born_assets.governance.eval_index import Match
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.governance import ContaminationCheckRecord
from born_assets.schemas.vocabulary import ContaminationMethod


@dataclass(frozen=True)
class RowCheck:
    """Every measurement and match of one training row."""

    example_id: str
    origin_id: str
    source_benchmark: str
    ngram_count: int
    overlap_fraction: float
    eval_overlaps: dict[str, float]
    matches: tuple[Match, ...]
    generator_evals: tuple[str, ...]
    max_similarity: float = 0.0


def row_check_json(check: RowCheck) -> str:
    """A row check as JSON (what `row_check_from_json` reads back)."""
    document = {
        "example_id": check.example_id,
        "origin_id": check.origin_id,
        "source_benchmark": check.source_benchmark,
        "ngram_count": check.ngram_count,
        "overlap_fraction": check.overlap_fraction,
        "eval_overlaps": check.eval_overlaps,
        "matches": [
            [list(m.sort_key), m.eval_id, m.eval_item_id, m.eval_field, m.method.value,
             m.overlap_fraction]
            for m in check.matches
        ],
        "generator_evals": list(check.generator_evals),
        "max_similarity": check.max_similarity,
    }  # fmt: skip
    return json.dumps(document, sort_keys=True)


def row_check_from_json(text: str) -> RowCheck:
    """A row check from `row_check_json`."""
    document = json.loads(text)
    matches = tuple(
        Match(tuple(key), eval_id, item, field, ContaminationMethod(method), overlap)
        for key, eval_id, item, field, method, overlap in document["matches"]
    )
    return RowCheck(
        example_id=document["example_id"],
        origin_id=document["origin_id"],
        source_benchmark=document["source_benchmark"],
        ngram_count=document["ngram_count"],
        overlap_fraction=document["overlap_fraction"],
        eval_overlaps=document["eval_overlaps"],
        matches=matches,
        generator_evals=tuple(document["generator_evals"]),
        max_similarity=document["max_similarity"],
    )


def check_table(batch: pa.Table, checks: Sequence[str]) -> pa.Table:
    """`ContaminationCheckRecord` rows for `batch`, given each row's check (`row_check_json`)."""
    return pa.table(
        {
            "example_id": batch.column("example_id"),
            "source_benchmark": batch.column("source_benchmark"),
            "generator_model": batch.column("generator_model"),
            "row_check": checks,
        }
    ).cast(arrow_schema(ContaminationCheckRecord))
