"""Cutting a release: build in a hidden folder, check, then publish with one atomic rename.

A version is immutable. Building an existing version again is refused unless every input hash
(specs, policy, code version, source files, use) is identical. Then, when every published file
still has the SHA-256 its release.json recorded, the release is kept as it is, with the check
results remembered for those files (a no-change rebuild costs seconds); otherwise it is rebuilt
in a scratch folder and compared byte for byte, and a file that differs is refused (not
reproducible, or changed after it was published). Either way nothing changes. A version name is
issued once (`release.ledger`): one that was issued for other inputs is refused even when its
folder is gone.

Publishing is `store.atomic.publish_dir`: the complete, synced folder becomes `releases/<version>`
in one rename of a symlink, so a crash leaves no release or the whole release.
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
import pandera
import pyarrow
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.layout import DataDir, ReleaseDir
from born_assets.release import checks
from born_assets.release.build import (
    ShardTarget,
    WarehouseInputs,
    input_fingerprint,
    write_fates,
    write_shards,
    write_shipped_hashes,
    write_withheld,
)
from born_assets.release.documents import ReleaseFacts, write_documents
from born_assets.release.ledger import issued_versions, record_issued, recover_releases
from born_assets.release.pins import pinned_inputs
from born_assets.release.refusals import (
    DEFAULT_CONFIG,
    LicenseGroups,
    MixedLicenseTerms,
    write_license_refusals,
    write_unknown_seeds,
)
from born_assets.release.reports import write_contamination_report, write_pii_report
from born_assets.release.source_shards import ShardCache
from born_assets.release.transparency import (
    SourceMeta,
)
from born_assets.schemas.identity import canonical_json, sha256_hex
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.license_policy import LicensePolicy
from born_assets.specs.licenses import combine
from born_assets.store.atomic import publish_dir
from born_assets.store.fates import fate_counts
from born_assets.store.memo import code_version
from born_assets.store.result_cache import ResultCache
from born_assets.store.unchanged import file_sha256, step_key

VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""What may name a release (its folder and its Dagster partition key), as a whole string."""
DEFAULT_SHARD_ROWS = 100_000


def is_version_name(version: str) -> bool:
    """True when the whole of `version` matches `VERSION_PATTERN` (no trailing newline either)."""
    return VERSION_PATTERN.fullmatch(version) is not None


class ReleaseRefused(Exception):
    """The release was not published; the message says why and what to do."""


@dataclass(frozen=True)
class ReleaseRequest:
    """What to build: a version, its use, and every input it depends on."""

    version: str
    use: IntendedUse
    data: DataDir
    warehouse: WarehouseInputs
    sources: tuple[SourceMeta, ...]
    spec_sha256: dict[str, str]  # spec file (relative to the data dir) -> SHA-256
    policy_sha256: str
    licenses: LicensePolicy = LicensePolicy()
    dataset_id: str = "born-assets"
    shard_rows: int = DEFAULT_SHARD_ROWS
    released_on: str = ""  # YYYY-MM-DD the version was first cut (the card and Croissant say it)

    @property
    def target(self) -> Path:
        """Where the published release lives."""
        return self.data.release(self.version).path


@dataclass
class ReleaseOutcome:
    """What happened: `created` or `unchanged` (verified by content hash), figures and checks."""

    version: str
    path: Path
    status: str
    rows: int
    fates: dict[str, int]
    files: dict[str, str]
    checks: list[checks.CheckOutcome] = field(default_factory=list)
    transparency_markdown: str = ""
    configs: dict[str, str] = field(default_factory=dict)  # config -> SPDX expression
    license: str = ""
    plots: list[str] = field(default_factory=list)
    checks_remembered: bool = False
    """The checks' results were remembered for exactly these files, not computed again."""
    rows_reused: int = 0
    """Released rows whose shards were copied from a release before (`release.source_shards`)."""


def _source_files(con: duckdb.DuckDBPyConnection, inputs: WarehouseInputs) -> dict[str, str]:
    ledgers = [(d / layout.FILES).as_posix() for d in inputs.source_dirs]
    if not ledgers:
        return {}
    rows = con.execute(
        "SELECT source_file, file_sha256 FROM read_parquet($f) ORDER BY 1", {"f": ledgers}
    ).fetchall()
    return dict(rows)


def _review_files(data: DataDir) -> dict[str, str]:
    """SHA-256 of every stored review import: a new verdict is a new input."""
    folder = data.review_records
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return {data.relative(p): sha256_hex(p.read_bytes()) for p in paths}


def release_inputs(con: duckdb.DuckDBPyConnection, request: ReleaseRequest) -> dict[str, Any]:
    """Every input hash of a release, as recorded in release.json."""
    return {
        "use": request.use.value,
        "code_version": code_version(),
        "policy_sha256": request.policy_sha256,
        "specs": dict(sorted(request.spec_sha256.items())),
        "source_files": _source_files(con, request.warehouse),
        "reviews": _review_files(request.data),
        "pins": pinned_inputs(request.data),
    }


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changed = [k for k in ("use", "code_version", "policy_sha256") if old.get(k) != new.get(k)]
    pins = old.get("pins", {}).get("files", {}), new.get("pins", {}).get("files", {})
    for group, (before, after) in {
        **{g: (old.get(g, {}), new.get(g, {})) for g in ("specs", "source_files", "reviews")},
        "pins": pins,
    }.items():
        changed += [
            f"{group}: {k}"
            for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)
        ]
    return changed


def read_release_json(folder: Path) -> dict[str, Any]:
    """The parsed release.json of a published release."""
    loaded: dict[str, Any] = json.loads(
        (folder / ReleaseDir.RELEASE_JSON).read_text(encoding="utf-8")
    )
    return loaded


@dataclass(frozen=True)
class Mismatch:
    """A file whose bytes differ from what release.json recorded (or is missing or extra).

    Or a fact release.json states that its files contradict (path `release.json <key>`).
    """

    path: str
    expected: str | None
    actual: str | None


def verify_release(folder: Path) -> list[Mismatch]:
    """Recompute the SHA-256 of every file and compare with release.json; [] means intact.

    release.json holds the hashes, so its own facts are checked against what they summarize:
    the rows against the shards, the fates against `fates.parquet`, the input fingerprint and
    the use against its inputs, the licence against its configs.
    """
    document = read_release_json(folder)
    recorded: dict[str, str] = document["files"]
    present = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ReleaseDir.RELEASE_JSON
    }
    mismatches = []
    for name in sorted(set(recorded) | present):
        actual = file_sha256(folder / name) if name in present else None
        if actual != recorded.get(name):
            mismatches.append(Mismatch(name, recorded.get(name), actual))
    if mismatches:  # the facts are read from the files: only once these are as recorded
        return mismatches
    return [
        Mismatch(f"{ReleaseDir.RELEASE_JSON} {key}", str(derived), str(document.get(key)))
        for key, derived in _derived_facts(ReleaseDir(folder), document).items()
        if document.get(key) != derived
    ]


def _derived_facts(release: ReleaseDir, document: dict[str, Any]) -> dict[str, Any]:
    """What release.json must state, worked out from its files and its own inputs."""
    with duckdb.connect() as con:
        fates = fate_counts(con, release.fates)
    return {
        "rows": sum(pq.read_metadata(shard).num_rows for shard in release.shards()),
        "counts_by_fate": dict(sorted(fates.items())),
        "input_fingerprint": input_fingerprint(document["inputs"]),
        "use": document["inputs"]["use"],
        "license": combine(v for v in document["configs"].values() if v != "NONE"),
    }


def cut_release(con: duckdb.DuckDBPyConnection, request: ReleaseRequest) -> ReleaseOutcome:
    """Build, check and publish a release; see the module docstring for the rules."""
    if not is_version_name(request.version):
        raise ReleaseRefused(
            f"release version {request.version!r} must match {VERSION_PATTERN.pattern}"
        )
    recover_releases(request.data)
    inputs = release_inputs(con, request)
    fingerprint = input_fingerprint(inputs)
    existing = read_release_json(request.target) if request.target.exists() else None
    if existing is not None and existing["input_fingerprint"] != fingerprint:
        raise ReleaseRefused(
            f"release {request.version} already exists and is immutable; it was built from other "
            f"inputs ({', '.join(_changed(existing['inputs'], inputs)) or 'fingerprint differs'}). "
            "Cut a new version instead."
        )
    issued = issued_versions(request.data).get(request.version)
    if existing is None and issued is not None and issued != fingerprint:
        raise ReleaseRefused(
            f"release version {request.version} was issued before for other inputs (see "
            f"{request.data.version_ledger}) and a version name is never reused; cut a new one"
        )
    damaged = verify_release(request.target) if existing is not None else []
    if existing is not None and not damaged:
        return _kept(con, request, existing)
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
            return _compare(existing, outcome, request, damaged)
        _write_release_json(staging, request, inputs, fingerprint, outcome)
        record_issued(request.data, request.version, fingerprint)
        publish_dir(staging, request.target)
        outcome.path = request.target
        return outcome
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _compare(
    existing: dict[str, Any],
    outcome: ReleaseOutcome,
    request: ReleaseRequest,
    damaged: list[Mismatch],
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
    if damaged:
        raise ReleaseRefused(
            f"release {request.version}: the published files {[m.path for m in damaged]} no "
            "longer have the SHA-256 release.json recorded, and a rebuild from the same inputs "
            "gives the recorded bytes; restore them (born verify lists them); nothing was changed"
        )
    outcome.status = "unchanged"
    outcome.path = request.target
    return outcome


def _kept(
    con: duckdb.DuckDBPyConnection, request: ReleaseRequest, existing: dict[str, Any]
) -> ReleaseOutcome:
    """The published release, kept: same inputs, and every file has its recorded SHA-256.

    Its checks' results are the ones remembered for these files (`_remember_checks`), or they run
    again on the published files.
    """
    folder = ReleaseDir(request.target)
    files = dict(existing["files"])
    remembered = checks.outcomes_from_record(_check_cache(request).get(_checks_key(request, files)))
    outcome_checks = remembered
    if outcome_checks is None:
        fates = folder.path / ReleaseDir.FATES
        outcome_checks = _outcome_checks(con, request, folder.path, files, fates)
        _remember_checks(request, files, outcome_checks)
    return ReleaseOutcome(
        request.version,
        request.target,
        "unchanged",
        int(existing["rows"]),
        dict(existing["counts_by_fate"]),
        files,
        outcome_checks,
        (folder.path / ReleaseDir.TRANSPARENCY_MD).read_text(encoding="utf-8"),
        configs=dict(existing["configs"]),
        license=str(existing["license"]),
        plots=ReleaseDir(request.target).plot_files(),
        checks_remembered=remembered is not None,
    )


def _check_cache(request: ReleaseRequest) -> ResultCache:
    return ResultCache(request.data.check_cache)


def _checks_key(request: ReleaseRequest, files: dict[str, str]) -> str:
    """The key of a release's check results: what they depend on.

    That is the code, the use, the reviews required, the SHA-256 of every release file (as
    written, or as verified against release.json) and the content of the sources' ledgers.
    """
    versions = {
        "code": code_version(),
        "checks": "release",
        "use": request.use.value,
        "required_for": ",".join(request.warehouse.review.required_for),
        "files": sha256_hex(canonical_json(dict(sorted(files.items()))).encode("utf-8")),
    }
    return step_key([d / layout.FILES for d in request.warehouse.source_dirs], versions)


def _remember_checks(
    request: ReleaseRequest, files: dict[str, str], outcomes: list[checks.CheckOutcome]
) -> None:
    """Keep a release's check results for its files, so a rebuild with no change reuses them."""
    _check_cache(request).put(_checks_key(request, files), checks.outcomes_record(outcomes))


_HIDDEN_VERSION = re.compile(r"\.(?P<version>.+)\.(?:link-)?[0-9a-f]{16}")
"""A version's hidden folder or link (`store.atomic.publish_dir`): `.v2.<hex>`, `.v2.link-<hex>`."""


def _sweep_scratch(releases: Path) -> None:
    """Remove what a killed build left behind (never a published release).

    That is its scratch folders, and the hidden folder and link of a version that never became
    visible: killed between its rename and its link, a whole release's size stayed on disk. Run
    under the warehouse lock, while no other cut can be publishing.
    """
    for child in releases.glob(".tmp-*"):
        shutil.rmtree(child, ignore_errors=True)
    for child in releases.glob(".*"):
        found = _HIDDEN_VERSION.fullmatch(child.name)
        target = releases / found["version"] if found else None
        if target is None or target.exists() or target.is_symlink():
            continue
        if child.is_symlink() or child.is_file():
            child.unlink(missing_ok=True)
        else:
            shutil.rmtree(child, ignore_errors=True)


def _refuse(
    con: duckdb.DuckDBPyConnection, request: ReleaseRequest, staging: Path, shipped: Path
) -> tuple[list[Path], list[Path], LicenseGroups]:
    """Write the release's own exits; returns (exits after dedup, own exits, licence groups).

    Order of the rules: contamination (where it applies), unknown seeds, use limits and
    reviews, licences; each judges only the rows the earlier ones left.
    """
    warehouse = request.warehouse
    after_dedup = warehouse.after_dedup_exits()
    seeds, withheld = staging / ReleaseDir.UNKNOWN_SEEDS, staging / ReleaseDir.WITHHELD
    licenses = staging / ReleaseDir.LICENSE_REFUSALS
    sources = warehouse.source_dirs
    write_unknown_seeds(con, sources, warehouse.deduplicated, after_dedup, seeds)
    write_withheld(con, warehouse, request.use, withheld, [*after_dedup, seeds], shipped)
    try:
        groups = write_license_refusals(
            con,
            sources,
            warehouse.deduplicated,
            [*after_dedup, seeds, withheld],
            request.use,
            request.licenses,
            licenses,
        )
    except MixedLicenseTerms as mixed:
        raise ReleaseRefused(f"release {request.version}: {mixed}") from mixed
    return after_dedup, [seeds, withheld, licenses], groups


def _build(
    con: duckdb.DuckDBPyConnection, request: ReleaseRequest, staging: Path
) -> ReleaseOutcome:
    shipped = staging / ReleaseDir.SHIPPED_HASHES
    write_shipped_hashes(con, request.warehouse, shipped)
    after_dedup, refused, groups = _refuse(con, request, staging, shipped)
    excluded = [*after_dedup, *refused]
    cache = ShardCache(request.data.shard_cache, request.data.root)
    target = ShardTarget(staging, request.target, cache, request.shard_rows)
    written = [
        write_shards(
            con,
            request.warehouse,
            request.use,
            target,
            excluded,
            licenses,
            shipped,
            "" if config == DEFAULT_CONFIG or len(groups.configs) == 1 else config,
        )
        for config, licenses in (groups.configs or {DEFAULT_CONFIG: ()}).items()
    ]
    rows = sum(w.rows for w in written)
    shards = [name for w in written for name in w.names]
    write_fates(con, request.warehouse, refused, staging)
    for scratch in [*refused, shipped]:
        scratch.unlink()
    shard_paths = [staging / s for s in shards]
    write_pii_report(con, request.warehouse.pii, shard_paths, staging / ReleaseDir.PII_REPORT)
    write_contamination_report(
        con, request.warehouse.contamination, staging / ReleaseDir.CONTAMINATION_REPORT
    )
    facts = ReleaseFacts(
        request.version,
        request.use.value,
        request.sources,
        request.policy_sha256,
        code_version(),
        dataset_id=request.dataset_id,
        released_on=request.released_on,
        configs=_config_licenses(groups),
        contamination_applies=request.warehouse.contamination_applies,
    )
    documents = write_documents(con, staging, facts, shards, request.data.text_facts_cache)
    fates = staging / ReleaseDir.FATES
    outcome_checks = _outcome_checks(con, request, staging, documents.files, fates)
    _remember_checks(request, documents.files, outcome_checks)
    return ReleaseOutcome(
        request.version,
        staging,
        "created",
        rows,
        documents.fates,
        documents.files,
        outcome_checks,
        documents.markdown,
        configs=facts.configs,
        license=documents.license,
        plots=documents.plots,
        rows_reused=sum(w.rows_reused for w in written),
    )


def _outcome_checks(
    con: duckdb.DuckDBPyConnection,
    request: ReleaseRequest,
    folder: Path,
    files: dict[str, str],
    fates: Path,
) -> list[checks.CheckOutcome]:
    """The release's own checks over its shards, and its fates against the sources' ledgers.

    `files` are the SHA-256 of the release's files (by their path in `folder`). A shard whose
    bytes passed the schema check before, under this code, is not read by it again: a cut copies
    the shards of every source that did not change (`release.source_shards`).
    """
    shards = ReleaseDir(folder).shards()
    keys = {shard: _schema_key(files[shard.relative_to(folder).as_posix()]) for shard in shards}
    cache = _check_cache(request)
    passed_before = {shard for shard, key in keys.items() if cache.get(key) is not None}
    schema = checks.schema(shards, passed_before)
    if schema.passed:
        for shard in set(shards) - passed_before:
            cache.put(keys[shard], {"passed": True})
    ledgers = [d / layout.FILES for d in request.warehouse.source_dirs]
    return [
        schema,
        checks.unique_example_ids(con, shards),
        checks.use_compatible(con, shards, request.use.value),
        checks.review_requirements_met(
            con, shards, request.use.value, request.warehouse.review.required_for
        ),
        checks.fates_reconcile(con, fates, ledgers),
    ]


def _schema_key(shard_sha256: str) -> str:
    """The key under which a shard's bytes are known to satisfy the release schema."""
    versions = {
        "check": "release_schema",
        "code": code_version(),
        "pandera": pandera.__version__,
        "pyarrow": pyarrow.__version__,
        "shard": shard_sha256,
    }
    return sha256_hex(canonical_json(versions).encode("utf-8"))


def _config_licenses(groups: LicenseGroups) -> dict[str, str]:
    """Config -> one SPDX expression for its rows."""
    if len(groups.configs) <= 1:
        return {DEFAULT_CONFIG: combine(t for ts in groups.configs.values() for t in ts)}
    return {config: combine(texts) for config, texts in groups.configs.items()}


def _write_release_json(
    staging: Path,
    request: ReleaseRequest,
    inputs: dict[str, Any],
    fingerprint: str,
    outcome: ReleaseOutcome,
) -> None:
    document: dict[str, Any] = {
        "dataset_id": request.dataset_id,
        "version": request.version,
        "use": request.use.value,
        "license": outcome.license,
        "configs": outcome.configs,
        "contamination_applies": request.warehouse.contamination_applies,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": outcome.rows,
        "counts_by_fate": dict(sorted(outcome.fates.items())),
        "input_fingerprint": fingerprint,
        "inputs": inputs,
        "files": outcome.files,
        "erasures": [],
    }
    (staging / ReleaseDir.RELEASE_JSON).write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
