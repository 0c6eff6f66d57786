"""Batch validation against a model: types compared on Arrow, values checked by Pandera."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pytest
from pandera.typing import Series

from born_assets.schemas.columns import reads
from born_assets.schemas.derive import arrow_schema, validate_batches

_TURNS = pa_arrow.list_(pa_arrow.struct([("role", pa_arrow.string()), ("text", pa_arrow.string())]))


class _Turns(pa.DataFrameModel):
    """A small table with a checked string, a nullable integer and a nested column."""

    example_id: Series[str] = pa.Field(str_startswith="ex_", description="Row id.")
    score: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0, description="A score.")
    turns: Series[pd.ArrowDtype] = pa.Field(
        dtype_kwargs={"pyarrow_dtype": _TURNS}, description="The turns."
    )


_ROWS: list[dict[str, object]] = [
    {"example_id": "ex_a", "score": 3, "turns": [{"role": "user", "text": "hi"}]},
    {"example_id": "ex_b", "score": None, "turns": []},
]


def _batch(schema: pa_arrow.Schema, rows: list[dict[str, object]]) -> pa_arrow.RecordBatch:
    return pa_arrow.RecordBatch.from_pylist(rows, schema=schema)


def test_rows_of_the_model_pass_and_a_bad_value_is_named_with_its_row() -> None:
    good = _batch(arrow_schema(_Turns), _ROWS)
    assert validate_batches(_Turns, [good, good]).passed
    bad = _batch(arrow_schema(_Turns), [*_ROWS, {**_ROWS[0], "example_id": "row_c", "score": -1}])
    report = validate_batches(_Turns, [good, bad])
    assert (report.rows, report.failures) == (5, 2)
    assert {e["column"] for e in report.examples} == {"example_id", "score"}
    assert {e["example_id"] for e in report.examples} == {"row_c"}


def test_a_column_of_another_type_fails_in_each_batch_naming_both_types_first() -> None:
    schema = arrow_schema(_Turns).set(1, pa_arrow.field("score", pa_arrow.string()))
    batch = _batch(schema, [{**row, "score": "high"} for row in _ROWS])
    report = validate_batches(_Turns, [batch, batch])  # a string in an integer column: no crash
    typed = [e for e in report.examples if e.get("check") == "type int64"]
    assert typed == [{"column": "score", "check": "type int64", "failure_case": "string"}] * 2
    assert report.examples[0] == typed[0]  # named before the value checks it also fails


def test_a_column_of_a_narrower_integer_type_fails_though_pandas_could_convert_it() -> None:
    schema = arrow_schema(_Turns).set(1, pa_arrow.field("score", pa_arrow.int32()))
    report = validate_batches(_Turns, [_batch(schema, _ROWS)])
    assert report.failures == 1
    assert report.examples[0]["failure_case"] == "int32"


def test_nested_items_named_otherwise_pass_and_a_nested_column_that_cannot_be_cast_fails() -> None:
    renamed = pa_arrow.list_(
        pa_arrow.field(
            "element", pa_arrow.struct([("role", pa_arrow.string()), ("text", pa_arrow.string())])
        )
    )
    schema = arrow_schema(_Turns).set(2, pa_arrow.field("turns", renamed))
    assert validate_batches(_Turns, [_batch(schema, _ROWS)]).passed
    schema = arrow_schema(_Turns).set(2, pa_arrow.field("turns", pa_arrow.list_(pa_arrow.int64())))
    batch = _batch(schema, [{**row, "turns": [1]} for row in _ROWS])
    report = validate_batches(_Turns, [batch])
    assert report.failures == 1
    assert report.examples[0]["column"] == "turns"


def test_a_missing_column_is_still_a_failure() -> None:
    batch = _batch(
        arrow_schema(_Turns).remove(1),
        [{k: v for k, v in r.items() if k != "score"} for r in _ROWS],
    )
    report = validate_batches(_Turns, [batch])
    assert report.failures == 1
    assert report.examples[0]["failure_case"] == "score"


def test_a_null_where_none_may_be_is_a_failure_naming_its_row_in_every_kind_of_column() -> None:
    rows = [{**_ROWS[0], "example_id": "ex_c", "turns": None}, *_ROWS]
    batch = _batch(arrow_schema(_Turns).set(2, pa_arrow.field("turns", _TURNS)), rows)
    report = validate_batches(_Turns, [batch, batch])  # turns has no value check: Arrow counts it
    assert (report.rows, report.failures) == (6, 2)
    assert report.examples[0]["column"] == "turns"
    assert report.examples[0]["check"] == "not_nullable"
    assert report.examples[0]["example_id"] == "ex_c"
    rows = [{**_ROWS[0], "example_id": None}, _ROWS[1]]
    report = validate_batches(
        _Turns,
        [
            _batch(
                arrow_schema(_Turns).set(0, pa_arrow.field("example_id", pa_arrow.string())), rows
            )
        ],
    )
    assert report.failures >= 1  # a checked column's null is Pandera's to find
    assert {e["column"] for e in report.examples} == {"example_id"}


class _Pairs(pa.DataFrameModel):
    """Unique together, and a check across columns that reads a column with no check of its own."""

    example_id: Series[str] = pa.Field(description="Row id.")
    side: Series[str] = pa.Field(description="A side.")
    note: Series[str] = pa.Field(nullable=True, description="A note.")

    class Config:
        unique = ["example_id", "side"]

    @pa.dataframe_check
    @classmethod
    def right_sides_have_a_note(cls, df: pd.DataFrame) -> pd.Series:
        """A right side says why."""
        return (df["side"] != "right") | df["note"].notna()


def test_columns_unique_together_and_read_across_columns_are_still_checked() -> None:
    rows: list[dict[str, object]] = [
        {"example_id": "ex_a", "side": "left", "note": None},
        {"example_id": "ex_a", "side": "left", "note": None},
        {"example_id": "ex_b", "side": "right", "note": None},
    ]
    report = validate_batches(_Pairs, [_batch(arrow_schema(_Pairs), rows)])
    checks = {str(e["check"]) for e in report.examples}
    assert "multiple_fields_uniqueness" in checks
    assert "right_sides_have_a_note" in checks


class _Notes(pa.DataFrameModel):
    """A check across columns that says what it reads, beside a text column it does not read."""

    side: Series[str] = pa.Field(description="A side.")
    note: Series[str] = pa.Field(nullable=True, description="A note.")
    text: Series[str] = pa.Field(description="A long text no check reads.")

    @pa.dataframe_check
    @classmethod
    @reads("side", "note")
    def right_sides_have_a_note(cls, df: pd.DataFrame) -> pd.Series:
        """A right side says why."""
        return (df["side"] != "right") | df["note"].notna()


class _Misread(pa.DataFrameModel):
    """A check across columns that reads a column it does not name."""

    side: Series[str] = pa.Field(description="A side.")
    text: Series[str] = pa.Field(description="A long text.")

    @pa.dataframe_check
    @classmethod
    @reads("side")
    def texts_name_their_side(cls, df: pd.DataFrame) -> pd.Series:
        """Reads `text` though it names only `side`."""
        return df["text"].str.contains("side") | (df["side"] == "left")


class _Typo(pa.DataFrameModel):
    """A check across columns that names a column the model lacks."""

    side: Series[str] = pa.Field(description="A side.")

    @pa.dataframe_check
    @classmethod
    @reads("sides")
    def sides_are_known(cls, df: pd.DataFrame) -> pd.Series:
        """Never run: the typo is refused first."""
        return df["side"].notna()


def test_a_check_saying_what_it_reads_finds_its_rows_and_nulls_elsewhere_are_found() -> None:
    rows: list[dict[str, object]] = [
        {"side": "left", "note": None, "text": "a"},
        {"side": "right", "note": None, "text": None},
    ]
    report = validate_batches(_Notes, [_batch(arrow_schema(_Notes), rows)])
    assert report.failures == 2
    assert {str(e["check"]) for e in report.examples} == {"right_sides_have_a_note", "not_nullable"}
    assert {str(e["column"]) for e in report.examples if e["check"] == "not_nullable"} == {"text"}


def test_a_check_that_reads_a_column_it_does_not_name_fails_naming_it() -> None:
    rows: list[dict[str, object]] = [{"side": "left", "text": "a"}]
    report = validate_batches(_Misread, [_batch(arrow_schema(_Misread), rows)])
    assert not report.passed
    assert report.examples[0]["check"] == "texts_name_their_side"
    assert "KeyError" in str(report.examples[0]["failure_case"])
    assert "text" in str(report.examples[0]["failure_case"])


def test_a_check_naming_a_column_the_model_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="sides"):
        validate_batches(_Typo, [_batch(arrow_schema(_Typo), [{"side": "left"}])])
