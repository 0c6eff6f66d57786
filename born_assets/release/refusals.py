"""What a release refuses besides contamination, use limits and reviews: seeds and licences.

Both are exits (`ExitRecord`), written to scratch files in the staging folder, computed over the
dedup survivors that no earlier rule removed (`excluded`):

- a row whose `seed_example_id` names no row any lane or import ingested (accepted or
  quarantined) is `quarantined` (`unknown_seed_example`): its lineage points nowhere;
- a row whose licence the policy refuses for this use (`specs.license_policy`) is `withheld`
  with the licence reason and the policy key.

The rows that remain are grouped by their share-alike terms. One group is one release config;
several groups are a mix that the policy either refuses (naming the sources of every group) or
splits into configs (`LicenseGroups.configs`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from born_assets import layout
from born_assets.release.build import NOT_EXCLUDED_SQL, write_sorted_exits
from born_assets.schemas.vocabulary import Fate, IntendedUse, QuarantineReason, Stage
from born_assets.specs.license_policy import LicensePolicy, MixAction, license_verdict

BATCH_ROWS = 10_000
VERDICTS_TABLE = "release_license_verdicts"
DEFAULT_CONFIG = "default"

_EXIT_COLUMNS = "src.example_id, src.origin_kind, src.origin_id, src.source_file, src.source_line"

_UNKNOWN_SEEDS_SQL = """
SELECT {exit_columns}, $fate AS fate, $stage AS stage, $reason AS reason,
       'seed_example_id ' || src.seed_example_id || ' names no row of any lane or import' AS detail
FROM read_parquet($deduplicated) AS d
JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
WHERE src.seed_example_id IS NOT NULL
  AND {not_excluded}
  AND src.seed_example_id NOT IN (
      SELECT example_id FROM read_parquet($sources, union_by_name = true)
      UNION ALL
      SELECT example_id FROM read_parquet($quarantine, union_by_name = true)
      WHERE example_id IS NOT NULL)
"""

_CANDIDATES_SQL = f"""
SELECT src.license, src.origin_id, count(*) AS rows
FROM read_parquet($deduplicated) AS d
JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
WHERE {NOT_EXCLUDED_SQL}
GROUP BY ALL ORDER BY ALL
"""

_LICENSE_EXITS_SQL = f"""
SELECT {_EXIT_COLUMNS}, $fate AS fate, $stage AS stage, v.refusal AS reason, v.detail AS detail
FROM read_parquet($deduplicated) AS d
JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
JOIN {VERDICTS_TABLE} AS v ON v.license = src.license
WHERE v.refusal IS NOT NULL
  AND {NOT_EXCLUDED_SQL}
"""


class MixedLicenseTerms(ValueError):
    """A release would mix share-alike rows with rows under other terms, and policy refuses."""


@dataclass(frozen=True)
class LicenseGroups:
    """The configs of a release: config name -> the licence expressions of its rows."""

    configs: dict[str, tuple[str, ...]]


def config_name(terms: str) -> str:
    """The Hugging Face config of rows under share-alike `terms` (`default` for none)."""
    return re.sub(r"[^a-z0-9.]+", "-", terms.lower()).strip("-") if terms else DEFAULT_CONFIG


def write_unknown_seeds(
    con: duckdb.DuckDBPyConnection,
    source_dirs: Sequence[Path],
    deduplicated: Path,
    excluded: Sequence[Path],
    out: Path,
) -> None:
    """Quarantine the rows whose `seed_example_id` names no ingested row."""
    params: dict[str, Any] = {
        "deduplicated": (deduplicated / layout.ROWS).as_posix(),
        "sources": [(d / layout.ROWS).as_posix() for d in source_dirs],
        "quarantine": [(d / layout.QUARANTINE).as_posix() for d in source_dirs],
        "fate": Fate.QUARANTINED.value,
        "stage": Stage.RELEASE.value,
        "reason": QuarantineReason.UNKNOWN_SEED_EXAMPLE.value,
    }
    if excluded:
        params["excluded"] = [p.as_posix() for p in excluded]
    sql = _UNKNOWN_SEEDS_SQL.format(
        exit_columns=_EXIT_COLUMNS, not_excluded=NOT_EXCLUDED_SQL if excluded else "true"
    )
    write_sorted_exits(con, sql, params, out, BATCH_ROWS)


def write_license_refusals(
    con: duckdb.DuckDBPyConnection,
    source_dirs: Sequence[Path],
    deduplicated: Path,
    excluded: Sequence[Path],
    use: IntendedUse,
    policy: LicensePolicy,
    out: Path,
) -> LicenseGroups:
    """Withhold the rows whose licence the policy refuses for `use`; group the rest by terms.

    Raises:
        MixedLicenseTerms: The rows left carry different share-alike terms and the policy says
            `refuse`; the message names the sources of each group.
    """
    params: dict[str, Any] = {
        "deduplicated": (deduplicated / layout.ROWS).as_posix(),
        "sources": [(d / layout.ROWS).as_posix() for d in source_dirs],
        "excluded": [p.as_posix() for p in excluded],
    }
    counted = con.execute(_CANDIDATES_SQL, params).fetchall()
    verdicts = {text: license_verdict(text, use, policy) for text in {row[0] for row in counted}}
    table = pa.table(
        {
            "license": list(verdicts),
            "refusal": [v.refusal.value if v.refusal else None for v in verdicts.values()],
            "detail": [v.detail for v in verdicts.values()],
        },
        schema=pa.schema(
            [("license", pa.string()), ("refusal", pa.string()), ("detail", pa.string())]
        ),
    )
    con.register(VERDICTS_TABLE, table)
    try:
        params.update(fate=Fate.WITHHELD.value, stage=Stage.RELEASE.value)
        write_sorted_exits(con, _LICENSE_EXITS_SQL, params, out, BATCH_ROWS)
    finally:
        con.unregister(VERDICTS_TABLE)
    rows: dict[str, int] = {}
    sources: dict[str, set[str]] = {}
    for license_text, origin_id, count in counted:
        if verdicts[license_text].refusal is None:
            rows[license_text] = rows.get(license_text, 0) + int(count)
            sources.setdefault(license_text, set()).add(origin_id)
    groups = _groups(rows, verdicts)
    if len(groups) > 1 and policy.share_alike_mix is MixAction.REFUSE:
        raise MixedLicenseTerms(_mix_message(groups, rows, sources, use))
    return LicenseGroups(
        {config_name(terms): tuple(sorted(texts)) for terms, texts in sorted(groups.items())}
    )


def _groups(rows: dict[str, int], verdicts: dict[str, Any]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for license_text in rows:
        groups.setdefault(verdicts[license_text].terms, []).append(license_text)
    return groups


def _mix_message(
    groups: dict[str, list[str]], rows: dict[str, int], sources: dict[str, set[str]], use: str
) -> str:
    parts = []
    for terms, texts in sorted(groups.items()):
        named = sorted({s for text in texts for s in sources[text]})
        count = sum(rows[text] for text in texts)
        label = f"share-alike {terms}" if terms else "no share-alike terms"
        parts.append(f"{label} ({count} rows): {', '.join(named)}")
    return (
        f"a {use} release would mix license terms that policy licenses.share_alike_mix (refuse) "
        f"keeps apart: {'; '.join(parts)}. Set share_alike_mix: split, or drop one side from "
        f"licenses.accepted.{use}"
    )
