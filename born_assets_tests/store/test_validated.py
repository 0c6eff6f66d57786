"""A check row by row reads again only the row groups it has not seen pass (`store.validated`)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.parquet as pq
import pytest
from pandera.typing import Series

from born_assets.schemas.derive import ValidationReport, arrow_schema
from born_assets.store import per_file, validated
from born_assets.store.validated import PassedGroups, validate_rows

GROUP_ROWS = 10


class _Scores(pa.DataFrameModel):
    """Scores that may not be negative."""

    name: Series[str] = pa.Field(description="Whose score.")
    score: Series[int] = pa.Field(ge=0, description="The score.")


def _write(path: Path, scores: list[int], compression: str = "zstd") -> Path:
    table = pa_arrow.table(
        {"name": [f"row-{i}" for i in range(len(scores))], "score": scores},
        schema=arrow_schema(_Scores),
    )
    pq.write_table(table, path, row_group_size=GROUP_ROWS, compression=compression)
    return path


def _validate(table: Path, memo: Path, check: str = "scores") -> tuple[int, int, int]:
    """(rows counted, failures, rows read again)."""
    with PassedGroups(table, memo, check) as groups:
        report = validate_rows(_Scores, groups, batch_rows=4)
    return report.rows, report.failures, report.rows - groups.rows_remembered


def test_an_unchanged_table_is_counted_whole_and_read_no_more(tmp_path: Path) -> None:
    memo = tmp_path / "memo"
    first = _write(tmp_path / "first.parquet", list(range(35)))
    assert _validate(first, memo) == (35, 0, 35)
    rewritten = _write(tmp_path / "rewritten.parquet", list(range(35)))  # the same bytes again
    assert _validate(rewritten, memo) == (35, 0, 0)


def test_only_the_groups_whose_bytes_changed_are_read_and_their_failures_found(
    tmp_path: Path,
) -> None:
    memo = tmp_path / "memo"
    scores = list(range(40))
    _validate(_write(tmp_path / "v1.parquet", scores), memo)
    scores[25] = -1  # the third group changes, and now fails
    changed = _write(tmp_path / "v2.parquet", scores)
    assert _validate(changed, memo) == (40, 1, GROUP_ROWS)
    assert _validate(changed, memo) == (40, 1, GROUP_ROWS)  # a failed group is never kept
    scores[25] = 25  # back as in v1, but only the last run's passed groups are kept
    assert _validate(_write(tmp_path / "v3.parquet", scores), memo) == (40, 0, GROUP_ROWS)


def test_rows_added_at_the_end_leave_the_groups_before_them_as_they_were(tmp_path: Path) -> None:
    memo = tmp_path / "memo"
    _validate(_write(tmp_path / "v1.parquet", list(range(25))), memo)
    grown = _write(tmp_path / "v2.parquet", list(range(25)) + [-5, 7])
    # groups of 10: the first two are unchanged, the third (5 rows, now 7) is read again
    assert _validate(grown, memo) == (27, 1, 7)


def test_the_same_values_stored_otherwise_are_read_again(tmp_path: Path) -> None:
    memo = tmp_path / "memo"
    _validate(_write(tmp_path / "zstd.parquet", list(range(20))), memo)
    assert _validate(_write(tmp_path / "snappy.parquet", list(range(20)), "snappy"), memo) == (
        20,
        0,
        20,
    )


def test_another_check_does_not_take_these_digests(tmp_path: Path) -> None:
    memo = tmp_path / "memo"
    table = _write(tmp_path / "t.parquet", list(range(20)))
    _validate(table, memo, check="scores")
    assert _validate(table, memo, check="other") == (20, 0, 20)


def test_the_kept_digests_are_those_of_the_last_table_only(tmp_path: Path) -> None:
    memo = tmp_path / "memo"
    _validate(_write(tmp_path / "big.parquet", list(range(100))), memo)
    assert memo.stat().st_size == 10 * 32
    _validate(_write(tmp_path / "small.parquet", list(range(15))), memo)
    assert memo.stat().st_size == 2 * 32


def test_an_error_in_the_check_keeps_the_digests_of_before(tmp_path: Path) -> None:
    memo = tmp_path / "memo"
    _validate(_write(tmp_path / "v1.parquet", list(range(20))), memo)
    kept = memo.read_bytes()
    other = _write(tmp_path / "v2.parquet", list(range(100, 130)))
    try:
        with PassedGroups(other, memo, "scores") as groups:
            next(groups.batches(4))
            raise RuntimeError("the check broke")
    except RuntimeError:
        pass
    assert memo.read_bytes() == kept


def test_a_settled_table_is_digested_once_per_process_for_every_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(per_file, "SETTLED_NS", -1)  # every file counts as settled
    digested: list[str] = []
    groups = validated._groups

    def counted(handle: BinaryIO) -> list[bytes]:
        digested.append(Path(handle.name).name)
        return groups(handle)

    monkeypatch.setattr(validated, "_groups", counted)
    memo = tmp_path / "memo"
    table = _write(tmp_path / "t.parquet", list(range(20)))
    _validate(table, memo, check="scores")
    assert _validate(table, tmp_path / "other", check="other") == (20, 0, 20)  # salted apart
    assert _validate(table, memo, check="scores") == (20, 0, 0)
    assert digested == ["t.parquet"]
    scores = list(range(20))
    scores[15] = -1
    _write(table, scores)  # the same path, other bytes: digested again
    assert _validate(table, memo, check="scores") == (20, 1, GROUP_ROWS)
    assert digested == ["t.parquet", "t.parquet"]


def test_a_failure_among_groups_validated_together_keeps_only_its_group_out(
    tmp_path: Path,
) -> None:
    memo = tmp_path / "memo"
    scores = list(range(40))
    scores[15], scores[16] = -1, -2  # both in the second group
    table = _write(tmp_path / "t.parquet", scores)
    assert _validate(table, memo) == (40, 2, 40)  # the four groups in one Pandera call
    assert _validate(table, memo) == (40, 2, GROUP_ROWS)  # the other three were kept as passed


def test_groups_are_validated_together_up_to_the_size_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    validate = validated.validate_batches

    def counted(
        model: type[pa.DataFrameModel], batches: list[pa_arrow.RecordBatch], max_examples: int
    ) -> ValidationReport:
        calls.append(sum(batch.num_rows for batch in batches))
        return validate(model, batches, max_examples)

    monkeypatch.setattr(validated, "validate_batches", counted)
    monkeypatch.setattr(validated, "TOGETHER_ROWS", 15)
    table = _write(tmp_path / "t.parquet", list(range(40)))
    assert _validate(table, tmp_path / "memo") == (40, 0, 40)
    assert calls == [14, 14, 12]  # each group of 10 read as batches of 4, 4 and 2, gathered
