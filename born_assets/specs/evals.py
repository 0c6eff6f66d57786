"""Eval sets: the benchmarks training data must not leak into, registered as YAML and loaded.

One file `data/evals/<eval_id>.yaml` registers one eval set: its JSONL file (relative to the data
dir), license and source, the field holding each item's id and the text fields to index (dotted
paths into each JSON record), the benchmark family it belongs to, the benchmarks derived from it
(whose task ids name the same tasks), and the model that generated it (`null` when people wrote
it). The contamination checks (`born_assets.governance.contamination`) match training rows
against the items loaded here.

A text field may hold a string or a list of strings (joined with newlines, e.g. MBPP's
`test_list`); an id may be a string or an integer (kept as its decimal text). A broken spec or
benchmark file never raises out of the loaders: it comes back as a `SpecError` naming the spec
file and the field to blame (`file`, `id_field`, `text_fields[1]`, ...), with the benchmark
file's line number in the message.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import Field, field_validator, model_validator

from born_assets.layout import DataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.specs.common import (
    Identifier,
    SpecError,
    SpecFieldError,
    StrictModel,
    load_specs,
    parse_spec,
    resolve_file,
)
from born_assets.specs.licenses import SpdxExpression

DottedPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]


class DerivedBenchmark(StrictModel):
    """A benchmark built from this eval set's tasks, and how it spells their ids.

    `id_format` is a `str.format` template with one field, `{id}`: MBPP+ names MBPP task 11
    `Mbpp/11`, so the MBPP eval set lists `{family: mbpp_plus, id_format: "Mbpp/{id}"}`.
    """

    family: Identifier
    id_format: str = Field(min_length=1)

    @field_validator("id_format")
    @classmethod
    def _one_id_field(cls, value: str) -> str:
        try:
            fields = [f for _, f, spec, conv in string.Formatter().parse(value) if f is not None]
        except ValueError as error:
            raise ValueError(f"not a format template: {error}") from error
        if not fields or any(name != "id" for name in fields):
            raise ValueError("must name the item id as {id} and no other field")
        return value

    def task_id(self, item_id: str) -> str:
        """The derived benchmark's task id for one of this eval set's item ids."""
        return self.id_format.format(id=item_id)


class EvalSetSpec(StrictModel):
    """One registered eval set (`data/evals/<eval_id>.yaml`)."""

    eval_id: Identifier
    description: str = Field(min_length=1)
    benchmark_family: Identifier
    file: str = Field(min_length=1)
    license: SpdxExpression
    source: str = Field(min_length=1)
    id_field: DottedPath
    text_fields: list[DottedPath] = Field(min_length=1)
    generator_model: str | None = Field(min_length=1)
    derived_benchmarks: list[DerivedBenchmark] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_fields(self) -> EvalSetSpec:
        if len(set(self.text_fields)) != len(self.text_fields):
            raise ValueError("text_fields lists a field twice")
        families = [self.benchmark_family, *(d.family for d in self.derived_benchmarks)]
        if len(set(families)) != len(families):
            raise ValueError("derived_benchmarks repeats a family (or the eval set's own)")
        return self


@dataclass(frozen=True)
class EvalItem:
    """One eval item: its id and the text of each indexed field, in `text_fields` order."""

    item_id: str
    line: int
    texts: tuple[str, ...]


@dataclass(frozen=True)
class EvalSet:
    """A valid eval set with its items and the hashes of what was read to build it."""

    spec: EvalSetSpec
    path: Path
    content_hash: str
    data_file: Path
    data_sha256: str
    items: tuple[EvalItem, ...]

    @property
    def eval_id(self) -> str:
        """The eval set's id."""
        return self.spec.eval_id

    def task_keys(self) -> Iterator[tuple[str, str, int]]:
        """`(family, task id, item index)` for every name a training row may give an item.

        Each item is named by the eval set's own family with its id, and by every derived
        benchmark's family with the id written in that benchmark's format.
        """
        for index, item in enumerate(self.items):
            yield self.spec.benchmark_family, item.item_id, index
            for derived in self.spec.derived_benchmarks:
                yield derived.family, derived.task_id(item.item_id), index


def load_eval_sets(data: DataDir) -> tuple[list[EvalSet], list[SpecError]]:
    """Load every eval set of the data dir; bad ones come back as errors, in file order."""
    return load_specs(
        data.evals, lambda path: load_eval_set(path, data), lambda item: item.eval_id, "eval_id"
    )


def load_eval_set(path: Path, data: DataDir) -> EvalSet | SpecError:
    """Parse and validate one eval set spec, then read and check its benchmark file."""
    parsed = parse_spec(path, EvalSetSpec)
    if isinstance(parsed, SpecError):
        return parsed
    spec, content_hash = parsed
    if spec.eval_id != path.stem:
        return SpecError(path, "eval_id", f"must match the file name ({path.stem!r})")
    try:
        data_file = resolve_file(spec.file, path.parent, data, "file")
        raw = data_file.read_bytes()
        items = _read_items(spec, raw, spec.file)
    except SpecFieldError as error:
        return SpecError(path, error.field, error.message)
    return EvalSet(
        spec=spec,
        path=path,
        content_hash=content_hash,
        data_file=data_file,
        data_sha256=sha256_hex(raw),
        items=items,
    )


def _read_items(spec: EvalSetSpec, raw: bytes, name: str) -> tuple[EvalItem, ...]:
    items: list[EvalItem] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record: Any = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            message = f"{name} line {number}: not valid JSON ({error})"
            raise SpecFieldError("file", message) from None
        if not isinstance(record, dict):
            raise SpecFieldError("file", f"{name} line {number}: not a JSON object")
        item = _item(spec, record, name, number)
        if item.item_id in first_line:
            message = f"{name} line {number}: id {item.item_id!r} repeats line "
            raise SpecFieldError("id_field", message + str(first_line[item.item_id]))
        first_line[item.item_id] = number
        items.append(item)
    if not items:
        raise SpecFieldError("file", f"{name} holds no items")
    return tuple(items)


def _item(spec: EvalSetSpec, record: dict[str, Any], name: str, number: int) -> EvalItem:
    where = f"{name} line {number}"
    item_id = _lookup(record, spec.id_field, "id_field", where)
    if isinstance(item_id, bool) or not isinstance(item_id, str | int) or item_id == "":
        raise SpecFieldError("id_field", f"{where}: {spec.id_field!r} must be a string or integer")
    texts = []
    for index, dotted in enumerate(spec.text_fields):
        field = f"text_fields[{index}]"
        value = _lookup(record, dotted, field, where)
        if isinstance(value, list) and all(isinstance(part, str) for part in value):
            value = "\n".join(value)
        if not isinstance(value, str):
            raise SpecFieldError(field, f"{where}: {dotted!r} must be a string or list of strings")
        texts.append(value)
    return EvalItem(item_id=str(item_id), line=number, texts=tuple(texts))


def _lookup(record: dict[str, Any], dotted: str, field: str, where: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise SpecFieldError(field, f"{where}: no field {dotted!r}")
        value = value[part]
    return value
