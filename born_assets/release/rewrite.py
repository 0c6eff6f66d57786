"""Honouring erasure in a published release: rewrite the shards without the erased rows.

The release is rebuilt in a scratch folder beside it: shards without the erased rows (same
writer settings), `fates.parquet` with those lines marked `erased` naming the request, the
documents regenerated, and `release.json` with the new file hashes and an erasure entry. The
complete, synced scratch folder then replaces the release in one rename (`publish_dir`).
"""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets.layout import ReleaseDir
from born_assets.release.build import parquet_writer
from born_assets.release.documents import ReleaseFacts, sources_from_table, write_documents
from born_assets.release.publish import read_release_json
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.fates import RowFateRecord
from born_assets.schemas.release import ReleaseRecord
from born_assets.schemas.release_reports import PiiFindingRecord
from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.store.atomic import fault_point, publish_dir
from born_assets.store.parquet import row_group_rows

ERASED_TABLE = "erased_ids"


@dataclass(frozen=True)
class ReleaseErasure:
    """What an erasure did to one release."""

    version: str
    rows_removed: int
    requests: dict[str, int]


def erased_in_release(
    con: duckdb.DuckDBPyConnection, folder: Path, erased: Mapping[str, str]
) -> dict[str, str]:
    """The erased example ids (-> request id) that this release still holds."""
    shards = [p.as_posix() for p in ReleaseDir(folder).shards()]
    if not erased or not shards:
        return {}
    ids = pa.table({"example_id": list(erased), "request_id": list(erased.values())})
    con.register(ERASED_TABLE, ids)
    try:
        rows = con.execute(
            f"SELECT s.example_id, e.request_id FROM read_parquet($s) AS s "
            f"JOIN {ERASED_TABLE} AS e USING (example_id)",
            {"s": shards},
        ).fetchall()
    finally:
        con.unregister(ERASED_TABLE)
    return dict(rows)


def erase_from_release(
    con: duckdb.DuckDBPyConnection, folder: Path, erased: Mapping[str, str]
) -> ReleaseErasure | None:
    """Remove the erased rows from a release; None when it holds none of them."""
    hits = erased_in_release(con, folder, erased)
    if not hits:
        return None
    scratch = folder.parent / f".tmp-erase-{folder.name}-{uuid.uuid4().hex[:12]}"
    shutil.copytree(folder, scratch)
    try:
        shards = sorted(p.relative_to(scratch).as_posix() for p in ReleaseDir(scratch).shards())
        for shard in shards:
            _filter_parquet(scratch / shard, ReleaseRecord, lambda t: _keep_rows(t, hits))
            fault_point("rewrite.shard")
        _filter_parquet(scratch / ReleaseDir.FATES, RowFateRecord, lambda t: _mark_erased(t, hits))
        pii_report = scratch / ReleaseDir.PII_REPORT
        _filter_parquet(pii_report, PiiFindingRecord, lambda t: _keep_rows(t, hits))
        document = read_release_json(folder)
        with (folder / ReleaseDir.TRANSPARENCY_CSV).open(encoding="utf-8") as handle:
            sources = sources_from_table(list(csv.DictReader(handle)))
        facts = ReleaseFacts(
            document["version"],
            document["use"],
            sources,
            document["inputs"]["policy_sha256"],
            document["inputs"]["code_version"],
            dataset_id=document["dataset_id"],
            configs=document["configs"],
            contamination_applies=document["contamination_applies"],
        )
        documents = write_documents(con, scratch, facts, shards)
        counts: dict[str, int] = {}
        for request in hits.values():
            counts[request] = counts.get(request, 0) + 1
        _update_release_json(
            scratch, document, documents.rows, documents.fates, documents.files, counts
        )
        publish_dir(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ReleaseErasure(folder.name, len(hits), counts)


def _keep_rows(table: pa.Table, hits: Mapping[str, str]) -> pa.Table:
    keep = [example_id not in hits for example_id in table.column("example_id").to_pylist()]
    return table.filter(pa.array(keep))


def _mark_erased(table: pa.Table, hits: Mapping[str, str]) -> pa.Table:
    rows = table.to_pylist()
    for row in rows:
        request = hits.get(row["example_id"] or "")
        if request is not None and row["fate"] == Fate.RELEASED.value:
            row.update(
                fate=Fate.ERASED.value,
                stage=Stage.GOVERNANCE.value,
                reason="erased",
                detail=request,
            )
    return pa.Table.from_pylist(rows, schema=table.schema)


def _filter_parquet(
    path: Path, model: type[pandera.DataFrameModel], change: Callable[[pa.Table], pa.Table]
) -> None:
    """Rewrite a Parquet file through `change`, with the release writer and its own group size."""
    schema = arrow_schema(model)
    group_rows = row_group_rows(path)
    table = change(pq.read_table(path).cast(schema))
    tmp = path.with_name(f".{path.name}.tmp")
    writer = parquet_writer(tmp, schema)
    try:
        writer.write_table(table, row_group_size=group_rows)
    finally:
        writer.close()
    tmp.replace(path)


def _update_release_json(
    folder: Path,
    document: dict[str, object],
    rows: int,
    fates: dict[str, int],
    files: dict[str, str],
    counts: dict[str, int],
) -> None:
    erasures = list(document.get("erasures", []))  # type: ignore[call-overload]
    erasures.append(
        {
            "erased_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rows_by_request": dict(sorted(counts.items())),
            "files_sha256_before": document["files"],
        }
    )
    document = {
        **document,
        "rows": rows,
        "counts_by_fate": fates,
        "files": files,
        "erasures": erasures,
    }
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    (folder / ReleaseDir.RELEASE_JSON).write_text(text, encoding="utf-8")
