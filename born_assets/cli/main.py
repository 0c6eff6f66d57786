"""The `born` command line: the same operations as the UI, for scripts and CI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from born_assets.cli.review import add_review_commands
from born_assets.cli.summary import fate_summary, format_summary
from born_assets.defs.location import Project, data_dir_from_env
from born_assets.governance.contamination_stage import format_report, report_rows
from born_assets.governance.erasure import (
    ErasureFilter,
    ErasureRequest,
    ErasureTarget,
    append_request,
)
from born_assets.governance.erasure_stage import preview
from born_assets.release.catalog import next_version, release_dirs, verify_release
from born_assets.release.diff import diff_releases, format_diff
from born_assets.release.layout import FATES_FILE, TRANSPARENCY_MD
from born_assets.release.publish import RELEASES_DIR, read_release_json
from born_assets.release.trace import TracePaths, format_trace, trace
from born_assets.specs.manifests import load_manifests
from born_assets.store.views import write_views


def _summary(args: argparse.Namespace) -> int:
    releases = release_dirs(args.data_dir)
    if releases:
        ledger = releases[-1] / FATES_FILE
        print(f"fates in release {releases[-1].name} ({ledger}):")
    else:
        ledger = args.data_dir / "warehouse" / "row_fates" / "row_fates.parquet"
        print(f"fates in the warehouse, no release yet ({ledger}):")
    print(format_summary(fate_summary(ledger)))
    return 0


def _manifests(args: argparse.Namespace) -> int:
    loaded, errors = load_manifests(args.data_dir / "manifests", args.data_dir)
    for item in loaded:
        m = item.manifest
        print(
            f"ok     {m.lane_id}: {m.benchmark_family}, teacher {m.teacher.model} "
            f"({m.teacher.version}), {len(item.task_ids)} tasks, {item.path.name}"
        )
    for error in errors:
        print(f"ERROR  {error}", file=sys.stderr)
    return 1 if errors else 0


def _release(args: argparse.Namespace) -> int:
    from born_assets.defs.runner import failure_messages, materialize_release

    version = args.version or next_version(args.data_dir)
    result = materialize_release(args.data_dir, version)
    if not result.success:
        for message in failure_messages(result):
            print(f"born: {message}", file=sys.stderr)
        return 1
    folder = args.data_dir / RELEASES_DIR / version
    print((folder / TRANSPARENCY_MD).read_text(encoding="utf-8"))
    document = read_release_json(folder)
    print(f"release {version}: {document['rows']} rows at {folder}")
    return 0


def _releases(args: argparse.Namespace) -> int:
    folders = release_dirs(args.data_dir)
    if not folders:
        print("no releases yet (make release)")
    for folder in folders:
        doc = read_release_json(folder)
        fates = ", ".join(f"{k} {v}" for k, v in doc["counts_by_fate"].items())
        print(
            f"{folder.name:<12} {doc['rows']:>8} rows  use={doc['use']}  "
            f"built {doc['built_at']}  ({fates})"
        )
    return 0


def _verify(args: argparse.Namespace) -> int:
    folder = args.data_dir / RELEASES_DIR / args.version
    if not (folder / "release.json").is_file():
        print(f"born: no release {args.version} under {folder.parent}", file=sys.stderr)
        return 2
    mismatches = verify_release(folder)
    for m in mismatches:
        print(
            f"MISMATCH {m.path}: expected {m.expected or 'no file'}, found {m.actual or 'no file'}"
        )
    count = len(read_release_json(folder)["files"])
    print(f"release {args.version}: {count} files, {len(mismatches)} mismatches")
    return 1 if mismatches else 0


def _source_dirs(data_dir: Path, project: Project) -> list[Path]:
    return [data_dir.joinpath("warehouse", *k.path) for k in project.source_keys()]


def _trace_paths(data_dir: Path) -> TracePaths:
    project = Project.load(data_dir)
    warehouse = data_dir / "warehouse"
    return TracePaths(
        source_dirs=_source_dirs(data_dir, project),
        sanitized=warehouse / "sanitized",
        gated=warehouse / "gated",
        deduplicated=warehouse / "deduplicated",
        contamination=warehouse / "contamination",
        data_dir=data_dir,
        spec_files={
            **{m.manifest.lane_id: m.path for m in project.lanes},
            **{i.spec.import_id: i.path for i in project.imports},
        },
    )


def _trace(args: argparse.Namespace) -> int:
    with duckdb.connect() as con:
        sections = trace(con, _trace_paths(args.data_dir), args.example_id)
    print(format_trace(args.example_id, sections))
    return 1 if sections and sections[0][0] == "not found" else 0


def _diff(args: argparse.Namespace) -> int:
    folders = [args.data_dir / RELEASES_DIR / v for v in (args.old, args.new)]
    missing = [f.name for f in folders if not (f / "release.json").is_file()]
    if missing:
        print(f"born: no release {', '.join(missing)}", file=sys.stderr)
        return 2
    with duckdb.connect() as con:
        result = diff_releases(con, folders[0], folders[1], args.out)
    print(format_diff(args.old, args.new, result))
    if args.out:
        print(f"row-level diff written to {args.out}")
    return 0


def _erase_target(args: argparse.Namespace) -> ErasureTarget:
    if args.source:
        benchmark, _, task = args.source.partition(":")
        return ErasureTarget(source_benchmark=benchmark, source_id=task)
    if args.import_row:
        import_id, _, row_id = args.import_row.partition(":")
        return ErasureTarget(import_id=import_id, import_row_id=row_id)
    return ErasureTarget(example_id=args.example_id, origin=args.origin, pattern=args.pattern)


def _erase(args: argparse.Namespace) -> int:
    from born_assets.defs.runner import failure_messages, materialize_graph

    now = datetime.now(UTC)
    request = ErasureRequest(
        id=args.id or f"ER-{now:%Y%m%d-%H%M%S}",
        requester=args.requester,
        reason=args.reason,
        requested_at=now,
        target=_erase_target(args),
    )
    project = Project.load(args.data_dir)
    dirs = _source_dirs(args.data_dir, project)
    with duckdb.connect() as con:
        matches, in_releases = preview(con, args.data_dir, dirs, ErasureFilter([request]))
    print(f"request {request.id}: {len(matches)} rows in the warehouse match")
    for _, origin, example_id in matches[:20]:
        print(f"  {origin}  {example_id}")
    for version, count in in_releases.items():
        print(f"  release {version}: {count} rows")
    if args.dry_run:
        print("dry run: nothing was changed")
        return 0
    path = append_request(args.data_dir, request)
    print(f"request recorded in {path}; rebuilding the warehouse and rewriting releases")
    result = materialize_graph(args.data_dir)
    for message in failure_messages(result):
        print(f"born: {message}", file=sys.stderr)
    return 0 if result.success else 1


def _contamination(args: argparse.Namespace) -> int:
    folder = args.data_dir / "warehouse" / "contamination"
    if not (folder / "report.parquet").exists():
        raise FileNotFoundError(
            f"{folder} does not exist: materialize the graph first (make release)"
        )
    print(format_report(report_rows(folder)))
    return 0


def _views(args: argparse.Namespace) -> int:
    path, names = write_views(args.data_dir)
    print(f"{len(names)} views in {path} (open it with duckdb; e.g. SELECT * FROM row_fates):")
    for name in names:
        print(f"  {name}")
    return 0


Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="born", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data dir (default: $BORN_DATA_DIR, else ./data)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(run=run)
        return sub

    add("summary", _summary, "lines read and lines per fate, per lane and import")
    add("manifests", _manifests, "validate every lane manifest; exit 1 on any error")
    release = add("release", _release, "build everything and cut a release version")
    release.add_argument("--version", help="release version (default: the next vN)")
    add("releases", _releases, "list published releases with their counts")
    verify = add("verify", _verify, "recompute every file hash of a release; exit 1 on a mismatch")
    verify.add_argument("version")
    trace_cmd = add("trace", _trace, "print the whole chain of one example")
    trace_cmd.add_argument("example_id")
    diff = add("diff", _diff, "compare two releases by lane, teacher, family and fate")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--out", type=Path, help="write the row-level diff to this Parquet file")
    add("contamination", _contamination, "print the contamination report per eval set and source")
    add("views", _views, "write warehouse.duckdb: one SQL view per warehouse and release table")
    erase = add("erase", _erase, "record an erasure request and honour it everywhere")
    target = erase.add_mutually_exclusive_group(required=True)
    target.add_argument("--example-id")
    target.add_argument(
        "--source", help="BENCHMARK:TASK_ID, e.g. swebench_lite:django__django-15202"
    )
    target.add_argument("--import-row", help="IMPORT_ID:SOURCE_ROW_ID")
    target.add_argument(
        "--origin", help="a whole lane or import, e.g. imports/glaive-toolcall-demo"
    )
    target.add_argument("--pattern", help="a regular expression over prompt and response")
    erase.add_argument("--reason", required=True)
    erase.add_argument("--requester", required=True)
    erase.add_argument("--id", help="request id (default: ER-<UTC timestamp>)")
    erase.add_argument("--dry-run", action="store_true", help="show what would go; change nothing")
    add_review_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `born`."""
    args = build_parser().parse_args(argv)
    args.data_dir = (args.data_dir or data_dir_from_env()).resolve()
    try:
        return int(args.run(args))
    except ValueError as error:  # also pydantic.ValidationError: a bad request or spec
        print(f"born: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"born: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
