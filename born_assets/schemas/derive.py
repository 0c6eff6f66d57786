"""Derivations from the Pandera models: Arrow schemas, column docs, and batch validation.

A column's Arrow type follows from its pandas dtype (`_ARROW_TYPES`); a nested column (a list of
structs, such as a conversation's messages) is declared on the model as `pd.ArrowDtype` of its
Arrow type (`dtype_kwargs={"pyarrow_dtype": ...}`), and that type is used as it is, so the
Parquet schema is still derived from the model, never restated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from born_assets.schemas.columns import FRAME_CHECK_READS

_ARROW_TYPES: dict[str, pa_arrow.DataType] = {
    "str": pa_arrow.string(),
    "string": pa_arrow.string(),
    "string[pyarrow]": pa_arrow.string(),
    "int64": pa_arrow.int64(),
    "Int64": pa_arrow.int64(),
    "float64": pa_arrow.float64(),
    "bool": pa_arrow.bool_(),
    "boolean": pa_arrow.bool_(),
    "datetime64[us, UTC]": pa_arrow.timestamp("us", tz="UTC"),
}


_NULLABLE_PANDAS = {pa_arrow.bool_(): "boolean", pa_arrow.int64(): "Int64"}
_IDENTITY = ("example_id", "source_file", "source_line")
"""Columns that name a failing row, when a table has them."""


@dataclass(frozen=True)
class ColumnDoc:
    """Name, type and description of one column, as a reader of the table needs them."""

    name: str
    arrow_type: pa_arrow.DataType
    nullable: bool
    description: str


@cache
def column_docs(model: type[pa.DataFrameModel]) -> tuple[ColumnDoc, ...]:
    """Columns of a model in declaration order."""
    schema = model.to_schema()
    docs = []
    for name, column in schema.columns.items():
        native = column.dtype.type
        if isinstance(native, pd.ArrowDtype):
            arrow_type = native.pyarrow_dtype
        elif (dtype := str(column.dtype)) in _ARROW_TYPES:
            arrow_type = _ARROW_TYPES[dtype]
        else:
            raise TypeError(f"{model.__name__}.{name}: no Arrow type for dtype {dtype!r}")
        docs.append(ColumnDoc(name, arrow_type, column.nullable, column.description or ""))
    return tuple(docs)


def is_nested(arrow_type: pa_arrow.DataType) -> bool:
    """Whether a column holds lists or structs (kept as Arrow data when read into pandas)."""
    return pa_arrow.types.is_nested(arrow_type)


@cache
def arrow_schema(model: type[pa.DataFrameModel]) -> pa_arrow.Schema:
    """The Arrow schema of a model, with each column's description in its field metadata."""
    fields = [
        pa_arrow.field(
            doc.name,
            doc.arrow_type,
            nullable=doc.nullable,
            metadata={"description": doc.description},
        )
        for doc in column_docs(model)
    ]
    return pa_arrow.schema(fields, metadata={"table": model.__name__, "doc": _doc(model)})


def column_names(model: type[pa.DataFrameModel]) -> list[str]:
    """A model's column names in declaration order (a column group's, for a SELECT list)."""
    return [doc.name for doc in column_docs(model)]


def _doc(model: type[pa.DataFrameModel]) -> str:
    return (model.__doc__ or "").strip().splitlines()[0]


def unique_columns(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    """Columns the model declares unique (checked across batches, not only inside one)."""
    return tuple(name for name, col in model.to_schema().columns.items() if col.unique)


@dataclass
class ValidationReport:
    """Outcome of validating a table in batches."""

    rows: int = 0
    failures: int = 0
    examples: list[dict[str, object]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no batch had a failure."""
        return self.failures == 0


def validate_batches(
    model: type[pa.DataFrameModel],
    batches: Iterable[pa_arrow.RecordBatch],
    max_examples: int = 5,
) -> ValidationReport:
    """Validate every batch lazily against `model`; count failures and keep a few examples.

    Each column's type is compared with the model's Arrow type on the batch itself; Pandera then
    checks the values (`_value_schema`). Row-level checks run per batch, so memory stays bounded
    by the batch size; uniqueness across batches is the caller's job (see `unique_columns`), since
    one batch cannot see the others.
    """
    report = ValidationReport()
    expected = {f.name: f.type for f in arrow_schema(model)}
    nullable = {
        d.name: _NULLABLE_PANDAS[d.arrow_type]
        for d in column_docs(model)
        if d.nullable and d.arrow_type in _NULLABLE_PANDAS
    }
    dtypes = {t: pd.ArrowDtype(t) for t in expected.values() if is_nested(t)}
    unchecked = _unchecked_columns(model)
    for batch in batches:
        batch, wrong = _typed(batch, expected)
        report.failures += len(wrong)
        report.examples += wrong[: max_examples - len(report.examples)]
        on_arrow = tuple(name for name in unchecked if name in batch.schema.names)
        nulls = _null_failures(batch, [n for n in on_arrow if not unchecked[n]])
        report.failures += len(nulls)
        report.examples += nulls[: max_examples - len(report.examples)]
        schema = _value_schema(model, on_arrow)
        frame = batch.drop_columns(list(on_arrow)).to_pandas(types_mapper=dtypes.get)
        typed = set(frame.columns) - {str(w["column"]) for w in wrong}
        for name in nullable.keys() & typed:  # Arrow gives float/object for ints/bools with nulls
            frame[name] = frame[name].astype(nullable[name])
        report.rows += len(frame)
        try:
            schema.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            report.failures += len(cases)
            for record in cases.head(max_examples - len(report.examples)).to_dict("records"):
                example = {k: str(v) for k, v in record.items()}
                report.examples.append({**example, **_row_identity(frame, record.get("index"))})
    return report


@cache
def _value_schema(
    model: type[pa.DataFrameModel], on_arrow: tuple[str, ...] = ()
) -> pa.DataFrameSchema:
    """The model's Pandera schema without its dtype checks (`_typed` compares Arrow types).

    Pandera 0.35 checks a string column's dtype element by element and then, even when every
    element passes, builds a failure-case frame and formats it into a message: more than half of
    a validation's time went there (docs/performance.md). Columns stay required, except those
    checked on Arrow instead (`on_arrow`, present in the batch).
    """
    schema = model.to_schema().remove_columns(list(on_arrow))
    return schema.update_columns({name: {"dtype": None} for name in schema.columns})


@cache
def _unchecked_columns(model: type[pa.DataFrameModel]) -> dict[str, bool]:
    """Columns whose only rule is their nullability, each with whether it may be null.

    Their values need no pandas: `_null_failures` checks them on Arrow. Converting them was most
    of the cost of validating a table of texts (the prompt, the closure, the messages), for a
    null count Arrow keeps anyway. Unique columns (alone or together), the row's identity and the
    columns the model's checks across columns read stay in the frame; every column does when one
    of those checks does not say what it reads (`schemas.columns.reads`).
    """
    schema = model.to_schema()
    read = _frame_check_reads(model)
    if read is None:
        return {}
    together = set(schema.unique or ())
    return {
        name: column.nullable
        for name, column in schema.columns.items()
        if not (column.checks or column.unique or name in together | read or name in _IDENTITY)
    }


def _frame_check_reads(model: type[pa.DataFrameModel]) -> set[str] | None:
    """The columns the model's checks across columns read; None when one of them does not say.

    Raises:
        ValueError: A check names a column the model does not have.
    """
    schema = model.to_schema()
    read: set[str] = set()
    for check in schema.checks:
        method = getattr(model, str(check.name), None)
        columns = getattr(getattr(method, "__func__", None), FRAME_CHECK_READS, None)
        if columns is None:
            return None
        read.update(columns)
    unknown = read - set(schema.columns)
    if unknown:
        raise ValueError(f"{model.__name__}: its checks read no such column: {sorted(unknown)}")
    return read


def _null_failures(batch: pa_arrow.RecordBatch, columns: Iterable[str]) -> list[dict[str, object]]:
    """One failure per null of `columns` (which may not be null), as Pandera words it."""
    failures: list[dict[str, object]] = []
    for name in columns:
        column = batch.column(name)
        if not column.null_count:
            continue
        for index in pc.indices_nonzero(column.is_null()).to_pylist():
            failures.append(
                {
                    "schema_context": "Column",
                    "column": name,
                    "check": "not_nullable",
                    "check_number": "None",
                    "failure_case": "nan",
                    "index": str(index),
                    **{
                        c: str(batch.column(c)[index].as_py())
                        for c in _IDENTITY
                        if c in batch.schema.names
                    },
                }
            )
    return failures


def _typed(
    batch: pa_arrow.RecordBatch, expected: dict[str, pa_arrow.DataType]
) -> tuple[pa_arrow.RecordBatch, list[dict[str, object]]]:
    """The batch with nested columns cast to the model's types, and one failure per wrong type.

    Parquet may name list items differently, so a nested column is cast first; a column whose
    type still differs (or cannot be cast) is a failure naming the column and both types.
    """
    wrong: list[dict[str, object]] = []
    for index, column in enumerate(batch.schema):
        want = expected.get(column.name)
        if want is None or column.type == want:
            continue
        if is_nested(want):
            try:
                batch = batch.set_column(index, column.name, batch.column(index).cast(want))
                continue
            except (pa_arrow.ArrowInvalid, pa_arrow.ArrowNotImplementedError):
                pass
        wrong.append(
            {"column": column.name, "check": f"type {want}", "failure_case": str(column.type)}
        )
    return batch, wrong


def _row_identity(frame: pd.DataFrame, index: object) -> dict[str, str]:
    """The failing row's example_id, source file and line, when the table has them."""
    if not isinstance(index, int) or index not in frame.index:
        return {}
    return {c: str(frame.at[index, c]) for c in _IDENTITY if c in frame.columns}
