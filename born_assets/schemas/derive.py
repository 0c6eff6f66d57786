"""Derivations from the Pandera models: Arrow schemas, column docs, and batch validation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pandera.errors
import pandera.pandas as pa
import pyarrow as pa_arrow

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
        dtype = str(column.dtype)
        if dtype not in _ARROW_TYPES:
            raise TypeError(f"{model.__name__}.{name}: no Arrow type for dtype {dtype!r}")
        docs.append(ColumnDoc(name, _ARROW_TYPES[dtype], column.nullable, column.description or ""))
    return tuple(docs)


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

    Row-level checks run per batch, so memory stays bounded by the batch size; uniqueness across
    batches is the caller's job (see `unique_columns`), since one batch cannot see the others.
    """
    report = ValidationReport()
    nullable = {
        d.name: _NULLABLE_PANDAS[d.arrow_type]
        for d in column_docs(model)
        if d.nullable and d.arrow_type in _NULLABLE_PANDAS
    }
    for batch in batches:
        frame = batch.to_pandas()
        for name, dtype in nullable.items():  # Arrow gives float/object for ints/bools with nulls
            frame[name] = frame[name].astype(dtype)
        report.rows += len(frame)
        try:
            model.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            report.failures += len(cases)
            for record in cases.head(max_examples - len(report.examples)).to_dict("records"):
                report.examples.append({k: str(v) for k, v in record.items()})
    return report
