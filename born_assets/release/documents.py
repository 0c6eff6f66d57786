"""The documents of a release folder, written from its rows and fates: transparency, card, hashes.

Used when a release is cut and again when an erasure rewrites it, so both produce the same kind of
folder from the same facts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from born_assets.layout import ReleaseDir
from born_assets.release.build import release_columns
from born_assets.release.card import write_card
from born_assets.release.info import ConfigInfo, LicenseRows, ReleaseInfo, SourceInfo
from born_assets.release.refusals import DEFAULT_CONFIG
from born_assets.release.reports import summarize_contamination, summarize_pii
from born_assets.release.text_facts import text_facts
from born_assets.release.transparency import SourceMeta, to_csv, to_markdown, transparency_rows
from born_assets.schemas.execution import Isolation
from born_assets.specs.licenses import combine
from born_assets.store.fates import fate_counts
from born_assets.store.unchanged import file_sha256

LIMITATIONS = (
    "Lane rows whose manifest names task tests were run against them in a sandbox "
    "(`execution_status`, `tests_passed`, `tests_total`; the policy's `execution` section says "
    "which families must pass). Other rows (imports, lanes without tests, SWE-bench patches, "
    "which need a repository checkout) were not executed: they are only as correct as their "
    "sources.",
    "Closure sections are derived from the source text; a section marked absent was not in the "
    "source, and nothing was invented to fill it.",
    "Deduplication is exact on the prompt hash, then near (MinHash over the dialogue, "
    "`near_dedup` in the policy); rewordings below the similarity threshold are not merged.",
)
_USES = {"train": "training", "eval": "evaluation", "red_team": "red-teaming", "demo": "demos"}


@dataclass(frozen=True)
class ReleaseFacts:
    """What the documents need besides the rows and fates on disk."""

    version: str
    use: str
    sources: tuple[SourceMeta, ...]
    policy_sha256: str
    code_version: str
    dataset_id: str = ""
    released_on: str = ""
    configs: dict[str, str] = field(default_factory=lambda: {DEFAULT_CONFIG: "NONE"})
    contamination_applies: bool = True


@dataclass(frozen=True)
class Documents:
    """What writing the documents found: rows, fates, the table, and every file's hash."""

    rows: int
    fates: dict[str, int]
    markdown: str
    files: dict[str, str]
    license: str
    plots: list[str]


def write_documents(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    facts: ReleaseFacts,
    shards: Sequence[str],
    text_cache: Path | None = None,
) -> Documents:
    """Write transparency.md/csv, README.md and croissant.json; hash every file but release.json.

    `text_cache` (`DataDir.text_facts_cache`) remembers the counts over each shard's texts.
    """
    shard_paths = [folder / s for s in shards]
    fates = fate_counts(con, folder / ReleaseDir.FATES)
    table = transparency_rows(con, folder / ReleaseDir.FATES, shard_paths, facts.sources)
    markdown = to_markdown(table)
    (folder / ReleaseDir.TRANSPARENCY_MD).write_text(markdown, encoding="utf-8")
    (folder / ReleaseDir.TRANSPARENCY_CSV).write_text(to_csv(table), encoding="utf-8")
    rows = fates.get("released", 0)
    hashes = {s: file_sha256(folder / s) for s in shards}
    from born_assets.release.plots import write_plots  # matplotlib only when a release is written

    texts = text_facts(con, shard_paths, text_cache)
    plots = write_plots(con, folder, texts)
    info = _info(facts, rows, list(shards), hashes, table, fates, markdown)
    info = dataclasses.replace(
        info,
        configs=_configs(con, folder, facts.configs),
        license_rows=_license_rows(con, shard_paths),
        pii=summarize_pii(con, folder, texts.prompts_changed),
        contamination=summarize_contamination(con, folder),
        plots=tuple(plots),
        limitations=(*info.limitations, _isolation(con, shard_paths)),
    )
    write_card(folder, info)
    files = {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ReleaseDir.RELEASE_JSON and not p.name.startswith(".")
    }
    return Documents(rows, dict(sorted(fates.items())), markdown, files, info.license, plots)


def _configs(
    con: duckdb.DuckDBPyConnection, folder: Path, licenses: dict[str, str]
) -> tuple[ConfigInfo, ...]:
    configs = []
    for name, expression in sorted(licenses.items(), key=lambda c: (c[0] != DEFAULT_CONFIG, c[0])):
        glob = ReleaseDir.shard_glob_of("" if name == DEFAULT_CONFIG else name)
        shards = sorted(p.as_posix() for p in folder.glob(glob))
        rows = con.execute("SELECT count(*) FROM read_parquet($s)", {"s": shards}).fetchall()
        configs.append(ConfigInfo(name, expression, glob, int(rows[0][0]) if shards else 0))
    return tuple(configs)


def _license_rows(
    con: duckdb.DuckDBPyConnection, shards: Sequence[Path]
) -> tuple[LicenseRows, ...]:
    if not shards:
        return ()
    rows = con.execute(
        "SELECT origin_id, license, count(*) FROM read_parquet($s) GROUP BY ALL ORDER BY ALL",
        {"s": [p.as_posix() for p in shards]},
    ).fetchall()
    return tuple(LicenseRows(str(o), str(lic), int(n)) for o, lic, n in rows)


def _info(
    facts: ReleaseFacts,
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
        for s in sorted(facts.sources, key=lambda s: s.origin_id)
    )
    return ReleaseInfo(
        version=facts.version,
        use=facts.use,
        rows=rows,
        shards=tuple(shards),
        shard_sha256=shard_hashes,
        columns=release_columns(),
        sources=sources,
        dataset_id=facts.dataset_id,
        released_on=facts.released_on,
        license=combine(v for v in facts.configs.values() if v != "NONE"),
        contamination_applies=facts.contamination_applies,
        fates=dict(sorted(fates.items())),
        policy_sha256=facts.policy_sha256,
        code_version=facts.code_version,
        transparency_markdown=markdown,
        out_of_scope_uses=_out_of_scope(facts.use),
        limitations=LIMITATIONS,
    )


def _isolation(con: duckdb.DuckDBPyConnection, shards: Sequence[Path]) -> str:
    """How the released rows' code was contained when it ran (the card says so)."""
    counts: dict[str, int] = {}
    if shards:
        counts = dict(
            con.execute(
                "SELECT execution_isolation, count(*) FROM read_parquet($p) "
                "WHERE execution_isolation <> $none GROUP BY ALL",
                {"p": [p.as_posix() for p in shards], "none": Isolation.NONE.value},
            ).fetchall()
        )
    weaker = counts.get(Isolation.LIMITS.value, 0)
    if weaker:
        return (
            f"{weaker:,} of {sum(counts.values()):,} executed rows ran with resource limits only "
            "(bubblewrap was not available): their code was not isolated from the file system "
            "or the network while it ran."
        )
    return (
        f"{counts.get(Isolation.BWRAP.value, 0):,} executed rows ran in bubblewrap sandboxes: "
        "no network, a read-only system, the data dir hidden, CPU, memory, file-size and "
        "process limits, a wall-clock timeout."
    )


def _out_of_scope(use: str) -> tuple[str, ...]:
    others = tuple(
        f"{label} (this release is for {_USES.get(use, use)})"
        for key, label in _USES.items()
        if key != use
    )
    return (*others, "any use the rows' prohibited_use column lists")


def sources_from_table(csv_rows: Sequence[dict[str, str]]) -> tuple[SourceMeta, ...]:
    """The source facts recorded in a published transparency.csv (to rebuild its documents)."""
    return tuple(
        SourceMeta(
            origin_kind=r["kind"],
            origin_id=r["id"],
            family=r["benchmark_family"],
            teacher=r["teacher"],
            license=r["license"],
            spec_sha256=r["spec_sha256"],
            source_url=r.get("source_url") or None,
        )
        for r in csv_rows
        if r["kind"] in ("lane", "import")
    )
