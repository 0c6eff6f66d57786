"""A check keeps its result for the content it read, and runs again when any byte of it changes.

The checks are real Dagster checks run by `dg.materialize` on a real warehouse folder; the body
counts its calls, so a remembered result is told from a computed one by more than its metadata.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.parquet as pq
from pandera.typing import Series

from born_assets.defs.checks import (
    RESULT_REMEMBERED,
    checks_per_asset,
    remembered_check,
    schema_check,
)
from born_assets.defs.resources import WarehouseResource

TABLE = dg.AssetKey("table")


def _graph(
    calls: list[str], during: str | None = None
) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    @dg.asset(key=TABLE)
    def _table() -> None:
        """Only here so the check has an asset; the tests write its file themselves."""

    @remembered_check(
        asset=TABLE,
        name="no_bad_value",
        description="No row holds the value 'bad'.",
        reads=lambda warehouse: [warehouse.table(TABLE, "rows.parquet")],
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        path = warehouse.table(TABLE, "rows.parquet")
        values = pq.read_table(path).column("value").to_pylist()
        calls.append("ran")
        if during is not None:
            _write(path, [during])
        bad = values.count("bad")
        return dg.AssetCheckResult(
            passed=bad == 0, description=f"{bad} bad", metadata={"bad": bad, "rows": len(values)}
        )

    return [_table, *checks_per_asset([_check])]


def _write(path: Path, values: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"value": values}), path)


def _run(data_dir: Path, calls: list[str], during: str | None = None) -> dg.AssetCheckEvaluation:
    result = dg.materialize(
        _graph(calls, during),
        selection=dg.AssetSelection.checks(dg.AssetCheckKey(TABLE, "no_bad_value")),
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def _remembered(evaluation: dg.AssetCheckEvaluation) -> bool:
    value = evaluation.metadata[RESULT_REMEMBERED].value
    assert isinstance(value, bool)
    return value


def test_unchanged_content_gives_the_remembered_result_and_a_change_runs_the_check(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse" / "table" / "rows.parquet"
    _write(path, ["good", "bad"])
    calls: list[str] = []

    first = _run(tmp_path, calls)
    again = _run(tmp_path, calls)

    assert calls == ["ran"]
    assert not _remembered(first) and _remembered(again)
    assert (
        (again.passed, again.description) == (first.passed, first.description) == (False, "1 bad")
    )
    assert again.metadata["rows"].value == 2

    _write(path, ["good", "fine"])  # same size class, other bytes: the content decides
    fixed = _run(tmp_path, calls)
    assert calls == ["ran", "ran"]
    assert fixed.passed and not _remembered(fixed)

    _write(path, ["good", "bad"])  # back to the first content: its result is still known
    assert not _run(tmp_path, calls).passed
    assert calls == ["ran", "ran"]


def test_a_table_changed_while_it_was_checked_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "warehouse" / "table" / "rows.parquet"
    _write(path, ["good"])
    calls: list[str] = []

    during = _run(tmp_path, calls, during="bad")  # the body rewrites the table as it reads
    assert during.passed  # what it read
    after = _run(tmp_path, calls)
    assert calls == ["ran", "ran"]
    assert not after.passed and not _remembered(after)


def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    _write(tmp_path / "warehouse" / "table" / "rows.parquet", ["bad"])
    calls: list[str] = []
    _run(tmp_path, calls)
    entries = list((tmp_path / "cache" / "checks").rglob("*.json"))
    assert len(entries) == 1
    entries[0].write_text('{"passed": "yes", "metadata": 3}', encoding="utf-8")

    rerun = _run(tmp_path, calls)
    assert calls == ["ran", "ran"]
    assert not rerun.passed and not _remembered(rerun)


class _Values(pandera.DataFrameModel):
    """Values that are never 'bad'."""

    value: Series[str] = pandera.Field(ne="bad", description="A value.")


def _schema_run(data_dir: Path) -> dg.AssetCheckEvaluation:
    @dg.asset(key=TABLE)
    def _table() -> None:
        """Only here so the check has an asset; the tests write its file themselves."""

    check = schema_check(TABLE, "rows.parquet", _Values)
    result = dg.materialize(
        [_table, *checks_per_asset([check])],
        selection=dg.AssetSelection.checks(check.spec.key),
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def _groups(path: Path, values: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"value": values}), path, row_group_size=3)


def test_a_schema_check_reads_again_only_the_row_groups_it_has_not_seen_pass(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse" / "table" / "rows.parquet"
    values = [f"v{i}" for i in range(9)]
    _groups(path, values)
    first = _schema_run(tmp_path)
    assert first.passed and first.metadata["rows_validated"].value == 9

    _groups(path, [*values, "w1", "bad"])  # a fourth group, with a bad row
    grown = _schema_run(tmp_path)
    assert not grown.passed
    assert (grown.metadata["rows"].value, grown.metadata["rows_validated"].value) == (11, 2)

    values[4] = "bad"  # a bad row in a group that passed before: its bytes changed
    _groups(path, values)
    planted = _schema_run(tmp_path)
    assert not planted.passed and "bad" in str(planted.description)
    assert planted.metadata["rows_validated"].value == 3
