"""Asset checks: one factory turns a schema into a blocking check; conservation checks on fates.

A check is declared as a `Check` (its spec and its body) with `asset_check` or `remembered_check`;
`checks_per_asset` makes the checks of each asset one Dagster step, so Dagster's own cost per step
(its events in the instance's storage, its look-up of the checked materialization) is paid once
per asset, not once per check; under the multiprocess executor each step is also a process.

A check that is a function of the files it reads is declared with `remembered_check`: its result
is kept in `cache/checks/` under the SHA-256 of the code and of the content of every file it
reads, so a run over unchanged tables re-hashes them instead of validating them again (at 100k
rows the checks took 19 s of a no-change run). The files are hashed before and after the check
reads them; a result is kept only when both agree, so a table swapped mid-check is never
remembered under the wrong content. The result's metadata says `result_remembered`.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandera.pandas as pa
from dagster_shared.serdes.errors import DeserializationError

from born_assets import layout
from born_assets.defs.resources import WarehouseResource
from born_assets.schemas.derive import unique_columns
from born_assets.store.conservation import (
    FlowMismatch,
    LineMismatch,
    unreconciled_lines,
)
from born_assets.store.memo import code_version
from born_assets.store.result_cache import ResultCache
from born_assets.store.unchanged import step_key
from born_assets.store.validated import PassedGroups, validate_rows

MAX_EXAMPLES = 5
RESULT_REMEMBERED = "result_remembered"
_WHERE = ("example_id", "source_file", "source_line")

CheckBody = Callable[[WarehouseResource], dg.AssetCheckResult]
Reads = Callable[[WarehouseResource], Sequence[Path]]


@dataclass(frozen=True)
class Check:
    """One asset check before it is a Dagster definition: what it asserts, and its body."""

    spec: dg.AssetCheckSpec
    body: CheckBody


def asset_check(
    *, asset: dg.AssetKey, name: str, description: str, blocking: bool = True
) -> Callable[[CheckBody], Check]:
    """Declare a check whose body runs every time (it reads more than warehouse tables)."""

    def decorate(body: CheckBody) -> Check:
        spec = dg.AssetCheckSpec(name, asset=asset, description=description, blocking=blocking)
        return Check(spec, body)

    return decorate


def remembered_check(
    *,
    asset: dg.AssetKey,
    name: str,
    description: str,
    reads: Reads,
    blocking: bool = True,
    reads_policy: bool = False,
) -> Callable[[CheckBody], Check]:
    """Declare a check whose result depends only on the code and what it reads.

    Args:
        asset: The checked asset.
        name: The check's name, unique for the asset.
        description: What the check asserts, shown in the UI.
        reads: The files the check reads, given the warehouse.
        blocking: A failed check stops the assets downstream (the default).
        reads_policy: The check also reads the policy: its content hash joins the key.
    """

    def decorate(body: CheckBody) -> Check:
        key = dg.AssetCheckKey(asset, name)

        def remembered(warehouse: WarehouseResource) -> dg.AssetCheckResult:
            versions = {"code": code_version(), "check": key.to_user_string()}
            if reads_policy:
                versions["policy"] = warehouse.load_policy().content_hash
            return _remembered(warehouse, reads(warehouse), versions, body)

        return asset_check(asset=asset, name=name, description=description, blocking=blocking)(
            remembered
        )

    return decorate


def checks_per_asset(checks: Sequence[Check]) -> list[dg.AssetChecksDefinition]:
    """One Dagster step per checked asset, evaluating the asset's checks in declared order.

    A subset of an asset's checks may be run (the UI's "Execute" on one check); the step then
    evaluates only those.
    """
    by_asset: defaultdict[dg.AssetKey, list[Check]] = defaultdict(list)
    for check in checks:
        by_asset[check.spec.asset_key].append(check)
    return [_step(asset, group) for asset, group in by_asset.items()]


def _step(asset: dg.AssetKey, checks: Sequence[Check]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        specs=[check.spec for check in checks],
        name=f"{asset.to_python_identifier()}_checks",
        can_subset=True,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        for check in checks:
            if check.spec.key in context.selected_asset_check_keys:
                result = check.body(warehouse)
                yield result._replace(asset_key=asset, check_name=check.spec.name)

    return _checks


def _remembered(
    warehouse: WarehouseResource,
    files: Sequence[Path],
    versions: Mapping[str, str],
    body: CheckBody,
) -> dg.AssetCheckResult:
    cache = ResultCache(warehouse.data.check_cache)
    key = step_key(files, versions)
    kept = _kept_result(cache.get(key))
    if kept is not None:
        return kept
    result = body(warehouse)
    metadata: dict[str, Any] = dict(result.metadata)
    if step_key(files, versions) == key:
        cache.put(
            key,
            {
                "passed": result.passed,
                "severity": result.severity.value,
                "description": result.description,
                "metadata": dg.serialize_value(metadata),
            },
        )
    return result._replace(metadata={**metadata, RESULT_REMEMBERED: dg.MetadataValue.bool(False)})


def _kept_result(entry: dict[str, object] | None) -> dg.AssetCheckResult | None:
    """A cache entry as a check result; None when missing or not one `_remembered` wrote."""
    if entry is None:
        return None
    passed, severity = entry.get("passed"), entry.get("severity")
    description, metadata = entry.get("description"), entry.get("metadata")
    if not (isinstance(passed, bool) and isinstance(severity, str)):
        return None
    if not (isinstance(description, str | None) and isinstance(metadata, str)):
        return None
    try:
        values = dg.deserialize_value(metadata, dict)
        level = dg.AssetCheckSeverity(severity)
    except (DeserializationError, ValueError):
        return None
    return dg.AssetCheckResult(
        passed=passed,
        severity=level,
        description=description,
        metadata={**values, RESULT_REMEMBERED: dg.MetadataValue.bool(True)},
    )


def _code(value: object) -> str:
    """A value as a Markdown code span: the UI renders descriptions, and `<think>` is not HTML."""
    text = str(value)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _example_text(example: object) -> str:
    """One offending example in words: `ex_… (file line N): column x fails check (value …)`."""
    if isinstance(example, list | tuple):
        return " ".join(str(part) for part in example)
    if not isinstance(example, dict):
        return str(example)
    where = ""
    if "source_file" in example and "source_line" in example:
        where = f" ({example['source_file']} line {example['source_line']})"
    if "column" in example and "check" in example:
        what = f"column {example['column']} fails {example['check']}"
        what += f" (value {_code(repr(example.get('failure_case')))})"
    else:
        what = ", ".join(f"{k} {_code(v)}" for k, v in example.items() if k not in _WHERE)
    return f"{example.get('example_id', '')}{where}: {what}".lstrip(": ")


def in_words(count: int, what: str, examples: Sequence[object]) -> str:
    """A check's outcome as a sentence: `no <what>`, or the count and the first examples."""
    if not count:
        return f"no {what}"
    first = "; ".join(_example_text(e) for e in examples[:MAX_EXAMPLES])
    return f"{count} {what}. First: {first}" if first else f"{count} {what}"


def passed_groups(
    warehouse: WarehouseResource, check: dg.AssetCheckKey, table: Path
) -> PassedGroups:
    """The row groups of `table` that `check`, a check row by row, saw pass before.

    See `store.validated`: only the other groups' rows are read again.
    """
    name = f"{check.asset_key.to_python_identifier()}.{check.name}"
    return PassedGroups(table, warehouse.data.validated_row_groups(name), name)


def schema_check(asset_key: dg.AssetKey, file_name: str, model: type[pa.DataFrameModel]) -> Check:
    """A blocking check that `file_name` of the asset matches `model`, validated in batches.

    Row-level rules run per batch (bounded memory), on the row groups not seen to pass before
    (`store.validated`); the model's unique columns are checked across the whole table with
    DuckDB. Only `SchemaErrors` become a failed check: any other exception is a bug in the check
    and surfaces as an error.
    """
    table = file_name.removesuffix(".parquet")
    name = f"{table}_match_schema"

    def reads(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(asset_key, file_name)]

    @remembered_check(
        asset=asset_key,
        name=name,
        description=f"Every row of `{file_name}` satisfies {model.__name__} (Pandera).",
        reads=reads,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        (path,) = reads(warehouse)
        with passed_groups(warehouse, dg.AssetCheckKey(asset_key, name), path) as groups:
            report = validate_rows(model, groups, warehouse.batch_rows)
        duplicates = _duplicate_keys(warehouse, path.as_posix(), unique_columns(model))
        failures = report.failures + sum(duplicates.values())
        repeated = [f"{n} repeated values of {c}" for c, n in duplicates.items() if n]
        return dg.AssetCheckResult(
            passed=failures == 0,
            description=in_words(
                failures, f"failures against {model.__name__}", [*repeated, *report.examples]
            ),
            metadata={
                "rows": report.rows,
                "rows_validated": report.rows - groups.rows_remembered,
                "failures": failures,
                "duplicate_keys": dict(duplicates),
                "examples": dg.MetadataValue.json(report.examples[:MAX_EXAMPLES]),
            },
        )

    return _check


def _duplicate_keys(
    warehouse: WarehouseResource, path: str, columns: Sequence[str]
) -> dict[str, int]:
    """Rows beyond the first for each value of each unique column, over the whole file."""
    result = {}
    with warehouse.connect() as con:
        for column in columns:
            # `column` comes from the schema model, never from data.
            query = f'SELECT count("{column}") - count(DISTINCT "{column}") FROM read_parquet(?)'
            ((result[column],),) = con.execute(query, [path]).fetchall()
    return result


def lines_reconcile_check(asset_key: dg.AssetKey) -> Check:
    """A blocking check that every line read got exactly one fate: accepted or quarantined.

    For each input file in the ledger, the lines 1..lines_read must each appear exactly once
    across the accepted rows and the quarantine; a file with fates but no ledger entry fails too.
    """

    def reads(warehouse: WarehouseResource) -> list[Path]:
        tables = (layout.ROWS, layout.QUARANTINE, layout.FILES)
        return [warehouse.table(asset_key, t) for t in tables]

    @remembered_check(
        asset=asset_key,
        name="lines_reconcile",
        description="Per input file: lines read = accepted + quarantined, each line exactly once.",
        reads=reads,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        rows, quarantine, ledger = reads(warehouse)
        with warehouse.connect() as con:
            return reconcile_result(unreconciled_lines(con, [rows, quarantine], [ledger]))

    return _check


def reconcile_result(bad: Sequence[LineMismatch | FlowMismatch]) -> dg.AssetCheckResult:
    """A conservation check's result: passed when nothing is unreconciled, else examples."""
    return dg.AssetCheckResult(
        passed=not bad,
        description=in_words(
            len(bad), "source files whose counts do not reconcile", [m.as_dict() for m in bad]
        ),
        metadata={
            "not_reconciled": len(bad),
            "examples": dg.MetadataValue.json([m.as_dict() for m in bad[:MAX_EXAMPLES]]),
        },
    )
