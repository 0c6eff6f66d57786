"""Curation: gates that measure then decide, the curation_score, and exact dedup.

Pure Python (pyarrow + DuckDB), no Dagster: the assets in the `curation` group call these.
"""

from born_assets.curation.closure_scan import Section, scan_closure
from born_assets.curation.dedup import (
    DEDUP_SCHEMA,
    RESPONSE_DUPLICATES_SCHEMA,
    DedupKey,
    SortDirection,
    dedup_prompts,
    response_duplicate_counts,
    response_fingerprint,
)
from born_assets.curation.gates import GATES_SCHEMA, GateEvaluator, ScanTarget, evaluate_gates
from born_assets.curation.reasons import GateName, GateReason, Severity
from born_assets.curation.score import curation_score, curation_scores

__all__ = [
    "DEDUP_SCHEMA",
    "GATES_SCHEMA",
    "RESPONSE_DUPLICATES_SCHEMA",
    "DedupKey",
    "GateEvaluator",
    "GateName",
    "GateReason",
    "ScanTarget",
    "Section",
    "Severity",
    "SortDirection",
    "curation_score",
    "curation_scores",
    "dedup_prompts",
    "evaluate_gates",
    "response_duplicate_counts",
    "response_fingerprint",
    "scan_closure",
]
