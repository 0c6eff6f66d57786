"""Materialization metadata derived from the schemas and the tables: what the UI shows."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
import pandera.pandas as pa
import pyarrow.parquet as pq

from born_assets.schemas.derive import column_docs

PREVIEW_ROWS = 5
PREVIEW_CELL_CHARS = 60


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """`dagster/column_schema` for a table, from its Pandera model."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=doc.name,
                type=str(doc.arrow_type),
                description=doc.description,
                constraints=dg.TableColumnConstraints(nullable=doc.nullable),
            )
            for doc in column_docs(model)
        ]
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= PREVIEW_CELL_CHARS else text[: PREVIEW_CELL_CHARS - 1] + "…"


def markdown_table(rows: Sequence[Mapping[str, object]], columns: list[str]) -> str:
    """A small Markdown table; cells are cut short and flattened to one line."""
    if not rows:
        return "_(no rows)_"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def preview(path: Path, columns: list[str], rows: int = PREVIEW_ROWS) -> dg.MetadataValue:
    """The first rows of a Parquet table as Markdown (reads one small batch only).

    Name no column of row text (a prompt, a response): Dagster keeps materialization metadata in
    its own event log under `DAGSTER_HOME`, outside the data dir, where an erasure cannot reach.
    """
    parquet = pq.ParquetFile(path)
    if parquet.metadata.num_rows == 0:
        return dg.MetadataValue.md("_(no rows)_")
    batch = next(parquet.iter_batches(batch_size=rows, columns=columns))
    return dg.MetadataValue.md(markdown_table(batch.to_pylist(), columns))


def counts_table(counts: Mapping[str, int], key_name: str) -> dg.MetadataValue:
    """Counts by a named key (a reason, a fate) as a Dagster table, sorted by key."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(key_name, "string"), dg.TableColumn("rows", "int")]
    )
    records = [
        dg.TableRecord({key_name: str(k), "rows": int(v)}) for k, v in sorted(counts.items())
    ]
    return dg.MetadataValue.table(records, schema=schema)


def plot_metadata(folder: Path, plots: Sequence[str]) -> dict[str, dg.MetadataValue]:
    """Each PNG plot of a release as Markdown with the image inline (the UI shows it)."""
    metadata: dict[str, dg.MetadataValue] = {}
    for plot in plots:
        path = folder / plot
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        metadata[f"plot_{path.stem}"] = dg.MetadataValue.md(
            f"![{path.stem}](data:image/png;base64,{encoded})\n\n`{plot}`"
        )
    return metadata


def passthrough_lineage(
    model: type[pa.DataFrameModel],
    upstream: Sequence[tuple[dg.AssetKey, type[pa.DataFrameModel]]],
) -> dg.TableColumnLineage:
    """`dagster/column_lineage`: each column of `model` from the first upstream table that has it.

    Columns a stage carries from its input keep their name; the ones it adds have no upstream.
    """
    names = {key: {d.name for d in column_docs(table)} for key, table in upstream}
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for doc in column_docs(model):
        source = next((key for key, _ in upstream if doc.name in names[key]), None)
        if source is not None:
            deps[doc.name] = [dg.TableColumnDep(asset_key=source, column_name=doc.name)]
    return dg.TableColumnLineage(deps_by_column=deps)
