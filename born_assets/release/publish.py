"""Cutting a release: build in a hidden folder, check, then publish with one atomic rename.

A version is immutable. Building an existing version again is refused unless every input hash
(specs, policy, code version, source files, use) is identical; then the release is rebuilt in a
scratch folder, compared byte for byte with the published one, and nothing changes.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from born_assets.release import checks
from born_assets.release.build import (
    WITHHELD_FILE,
    WarehouseInputs,
    code_version,
    file_sha256,
    input_fingerprint,
    release_columns,
    write_fates,
    write_shards,
    write_withheld,
)
from born_assets.release.card import write_card
from born_assets.release.layout import (
    FATES_FILE,
    RELEASE_JSON,
    TRANSPARENCY_CSV,
    TRANSPARENCY_MD,
    ReleaseInfo,
    SourceInfo,
)
from born_assets.release.transparency import (
    SourceMeta,
    to_csv,
    to_markdown,
    transparency_rows,
)
from born_assets.storage import fsync_dir

VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_SHARD_ROWS = 100_000
RELEASES_DIR = "releases"


class ReleaseRefused(Exception):
    """The release was not published; the message says why and what to do."""


@dataclass(frozen=True)
class ReleaseRequest:
    """What to build: a version, its use, and every input it depends on."""

    version: str
    use: str
    data_dir: Path
    warehouse: WarehouseInputs
    sources: tuple[SourceMeta, ...]
    spec_sha256: dict[str, str]  # spec file (relative to the data dir) -> SHA-256
    policy_sha256: str
    shard_rows: int = DEFAULT_SHARD_ROWS

    @property
    def target(self) -> Path:
        """Where the published release lives."""
        return self.data_dir / RELEASES_DIR / self.version


@dataclass
class ReleaseOutcome:
    """What happened: `created` or `unchanged` (a verified rebuild), with figures and checks."""

    version: str
    path: Path
    status: str
    rows: int
    fates: dict[str, int]
    files: dict[str, str]
    checks: list[checks.CheckOutcome] = field(default_factory=list)
    transparency_markdown: str = ""


def _source_files(con: duckdb.DuckDBPyConnection, inputs: WarehouseInputs) -> dict[str, str]:
    ledgers = [(d / "files.parquet").as_posix() for d in inputs.source_dirs]
    if not ledgers:
        return {}
    rows = con.execute(
        "SELECT source_file, file_sha256 FROM read_parquet($f) ORDER BY 1", {"f": ledgers}
    ).fetchall()
    return dict(rows)


def release_inputs(con: duckdb.DuckDBPyConnection, request: ReleaseRequest) -> dict[str, Any]:
    """Every input hash of a release, as recorded in release.json."""
    return {
        "use": request.use,
        "code_version": code_version(),
        "policy_sha256": request.policy_sha256,
        "specs": dict(sorted(request.spec_sha256.items())),
        "source_files": _source_files(con, request.warehouse),
    }


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changed = [k for k in ("use", "code_version", "policy_sha256") if old.get(k) != new.get(k)]
    for group in ("specs", "source_files"):
        before, after = old.get(group, {}), new.get(group, {})
        changed += [
            f"{group}: {k}"
            for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)
        ]
    return changed


def read_release_json(folder: Path) -> dict[str, Any]:
    """The parsed release.json of a published release."""
    loaded: dict[str, Any] = json.loads((folder / RELEASE_JSON).read_text(encoding="utf-8"))
    return loaded


def cut_release(con: duckdb.DuckDBPyConnection, request: ReleaseRequest) -> ReleaseOutcome:
    """Build, check and publish a release; see the module docstring for the rules."""
    if not VERSION_PATTERN.match(request.version):
        raise ReleaseRefused(
            f"release version {request.version!r} must match {VERSION_PATTERN.pattern}"
        )
    inputs = release_inputs(con, request)
    fingerprint = input_fingerprint(inputs)
    existing = read_release_json(request.target) if request.target.exists() else None
    if existing is not None and existing["input_fingerprint"] != fingerprint:
        raise ReleaseRefused(
            f"release {request.version} already exists and is immutable; it was built from other "
            f"inputs ({', '.join(_changed(existing['inputs'], inputs)) or 'fingerprint differs'}). "
            "Cut a new version instead."
        )
    releases = request.target.parent
    releases.mkdir(parents=True, exist_ok=True)
    _sweep_scratch(releases)
    staging = releases / f".tmp-{request.version}-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        outcome = _build(con, request, staging)
        failed = [c for c in outcome.checks if not c.passed]
        if failed:
            details = "; ".join(
                f"{c.name}: {c.failures} failures, e.g. {c.examples[:2]}" for c in failed
            )
            raise ReleaseRefused(f"release {request.version} failed its checks: {details}")
        if existing is not None:
            return _compare(existing, outcome, request)
        _write_release_json(staging, request, inputs, fingerprint, outcome)
        fsync_dir(staging)
        staging.rename(request.target)
        fsync_dir(releases)
        outcome.path = request.target
        return outcome
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _compare(
    existing: dict[str, Any], outcome: ReleaseOutcome, request: ReleaseRequest
) -> ReleaseOutcome:
    if existing["files"] != {k: v for k, v in outcome.files.items()}:
        differing = sorted(
            k
            for k in set(existing["files"]) | set(outcome.files)
            if existing["files"].get(k) != outcome.files.get(k)
        )
        raise ReleaseRefused(
            f"release {request.version}: same inputs but different bytes in {differing}: "
            "the build is not reproducible; nothing was changed"
        )
    outcome.status = "unchanged"
    outcome.path = request.target
    return outcome


def _sweep_scratch(releases: Path) -> None:
    """Remove scratch folders that a killed build left behind (never a published release)."""
    for child in releases.glob(".tmp-*"):
        shutil.rmtree(child, ignore_errors=True)


def _build(
    con: duckdb.DuckDBPyConnection, request: ReleaseRequest, staging: Path
) -> ReleaseOutcome:
    withheld = staging / WITHHELD_FILE
    write_withheld(con, request.warehouse, request.use, withheld)
    rows, shards = write_shards(con, request.warehouse, request.use, staging, request.shard_rows)
    fates = write_fates(con, request.warehouse, withheld, staging)
    withheld.unlink()
    shard_paths = [staging / s for s in shards]
    table = transparency_rows(con, staging / FATES_FILE, shard_paths, request.sources)
    markdown = to_markdown(table)
    (staging / TRANSPARENCY_MD).write_text(markdown, encoding="utf-8")
    (staging / TRANSPARENCY_CSV).write_text(to_csv(table), encoding="utf-8")
    shard_hashes = {s: file_sha256(staging / s) for s in shards}
    write_card(staging, _info(request, rows, shards, shard_hashes, table, fates, markdown))
    files = {
        p.relative_to(staging).as_posix(): file_sha256(p)
        for p in sorted(staging.rglob("*"))
        if p.is_file() and p.name != RELEASE_JSON
    }
    ledgers = [d / "files.parquet" for d in request.warehouse.source_dirs]
    outcome_checks = [
        checks.schema(shard_paths),
        checks.unique_example_ids(con, shard_paths),
        checks.use_compatible(con, shard_paths, request.use),
        checks.fates_reconcile(con, staging / FATES_FILE, ledgers),
    ]
    return ReleaseOutcome(
        request.version, staging, "created", rows, fates, files, outcome_checks, markdown
    )


def _info(
    request: ReleaseRequest,
    rows: int,
    shards: list[str],
    shard_hashes: dict[str, str],
    table: list[dict[str, Any]],
    fates: dict[str, int],
    markdown: str,
) -> ReleaseInfo:
    by_id = {r["id"]: r for r in table if r["kind"] in ("lane", "import")}
    sources = tuple(
        SourceInfo(
            origin_kind=s.origin_kind,
            origin_id=s.origin_id,
            family=s.family,
            teacher=s.teacher,
            license=s.license,
            source_url=s.source_url,
            spec_sha256=s.spec_sha256,
            rows_read=by_id[s.origin_id]["rows_read"],
            rows_released=by_id[s.origin_id]["released"],
        )
        for s in sorted(request.sources, key=lambda s: s.origin_id)
    )
    licenses = tuple(sorted({s.license for s in sources if s.rows_released}))
    return ReleaseInfo(
        version=request.version,
        use=request.use,
        rows=rows,
        shards=tuple(shards),
        shard_sha256=shard_hashes,
        columns=release_columns(),
        sources=sources,
        licenses=licenses,
        fates=dict(sorted(fates.items())),
        policy_sha256=request.policy_sha256,
        code_version=code_version(),
        transparency_markdown=markdown,
        out_of_scope_uses=_out_of_scope(request.use),
        pii_note="",
        limitations=LIMITATIONS,
    )


LIMITATIONS = (
    "Rows are only as correct as their sources: reference solutions and teacher outputs were not "
    "executed against tests by this pipeline.",
    "Closure sections are derived from the source text; a section marked absent was not in the "
    "source, and nothing was invented to fill it.",
    "Deduplication is exact on the prompt hash; paraphrased prompts are not merged.",
)


def _out_of_scope(use: str) -> tuple[str, ...]:
    others = {"train": "training", "eval": "evaluation", "red_team": "red-teaming", "demo": "demos"}
    return tuple(
        f"{label} (this release is for {others.get(use, use)})"
        for key, label in others.items()
        if key != use
    ) + ("any use the rows' prohibited_use column lists",)


def _write_release_json(
    staging: Path,
    request: ReleaseRequest,
    inputs: dict[str, Any],
    fingerprint: str,
    outcome: ReleaseOutcome,
) -> None:
    document = {
        "version": request.version,
        "use": request.use,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": outcome.rows,
        "counts_by_fate": dict(sorted(outcome.fates.items())),
        "input_fingerprint": fingerprint,
        "inputs": inputs,
        "files": outcome.files,
        "erasures": [],
    }
    (staging / RELEASE_JSON).write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
