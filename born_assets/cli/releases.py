"""`born release`, `releases`, `verify`, `diff`, `trace`, `summary`: cut and read releases."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import duckdb

from born_assets import layout
from born_assets.cli.summary import fate_summary, format_summary
from born_assets.layout import Asset
from born_assets.release.catalog import next_version, refusal_counts, verify_release
from born_assets.release.diff import diff_releases, format_diff
from born_assets.release.pins import ChangedInput, changed_inputs
from born_assets.release.preflight import release_preflight
from born_assets.release.publish import read_release_json
from born_assets.release.trace import TracePaths, format_trace, trace
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.project import Project
from born_assets.store.memo import code_version


def _summary(args: argparse.Namespace) -> int:
    releases = args.data.published_releases()
    if releases:
        ledger = releases[-1].fates
        print(f"fates in release {releases[-1].version} ({ledger}):")
    else:
        ledger = args.data.stage(Asset.ROW_FATES) / layout.ROW_FATES
        print(f"fates in the warehouse, no release yet ({ledger}):")
    print(format_summary(fate_summary(ledger)))
    return 0


def _release(args: argparse.Namespace) -> int:
    from born_assets.defs.runner import failure_messages, materialize_release

    problems = release_preflight(args.data)
    if problems:
        print("born: release refused before building; fix these first:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    version = args.version or next_version(args.data)
    result = materialize_release(args.data, version, IntendedUse(args.use))
    if not result.success:
        for message in failure_messages(result):
            print(f"born: {message}", file=sys.stderr)
        return 1
    release = args.data.release(version)
    print(release.file(release.TRANSPARENCY_MD).read_text(encoding="utf-8"))
    document = read_release_json(release.path)
    print(
        f"release {version} ({document['use']}, dataset {document['dataset_id']}, license "
        f"{document['license']}): {document['rows']} rows at {release.path}"
    )
    refused = refusal_counts(release.fates)
    if refused:
        print("lines not released, by fate, stage and reason:")
        for (fate, stage, reason), lines in refused.items():
            print(f"  {fate:<12} {stage:<10} {reason:<28} {lines:>6}")
    return 0


def _releases(args: argparse.Namespace) -> int:
    releases = args.data.published_releases()
    if not releases:
        print("no releases yet (make release)")
    for release in releases:
        doc = read_release_json(release.path)
        fates = ", ".join(f"{k} {v}" for k, v in doc["counts_by_fate"].items())
        print(
            f"{release.version:<12} {doc['rows']:>8} rows  use={doc['use']}  "
            f"built {doc['built_at']}  ({fates})"
        )
    return 0


def _published(args: argparse.Namespace, version: str) -> Path | None:
    release = args.data.release(version)
    if release.is_published():
        return Path(release.path)
    print(f"born: no release {version} under {release.path.parent}", file=sys.stderr)
    return None


def _verify(args: argparse.Namespace) -> int:
    folder = _published(args, args.version)
    if folder is None:
        return 2
    mismatches = verify_release(folder)
    for m in mismatches:
        print(
            f"MISMATCH {m.path}: expected {m.expected or 'no file'}, found {m.actual or 'no file'}"
        )
    document = read_release_json(folder)
    print(f"release {args.version}: {len(document['files'])} files, {len(mismatches)} mismatches")
    inputs = document["inputs"]
    changed = changed_inputs(args.data, inputs)
    for change in changed:
        print(f"INPUT CHANGED {change}")
    pinned = len({**inputs["pins"]["files"], **inputs["source_files"]})
    print(f"pinned inputs: {pinned} files, {len(changed)} changed")
    now = code_version()
    if now != inputs["code_version"]:
        changed.append(ChangedInput("code_version", inputs["code_version"], now))
        print(f"INPUT CHANGED code version: pinned {inputs['code_version']}, now {now}")
    return 1 if mismatches or changed else 0


def _trace(args: argparse.Namespace) -> int:
    project = Project.load(args.data)
    paths = TracePaths(args.data, project.source_dirs(), project.spec_files())
    with duckdb.connect() as con:
        sections = trace(con, paths, args.example_id)
    print(format_trace(args.example_id, sections))
    return 1 if sections and sections[0][0] == "not found" else 0


def _diff(args: argparse.Namespace) -> int:
    old, new = _published(args, args.old), _published(args, args.new)
    if old is None or new is None:
        return 2
    with duckdb.connect() as con:
        result = diff_releases(con, old, new, args.out)
    print(format_diff(args.old, args.new, result))
    if args.out:
        print(f"row-level diff written to {args.out}")
    return 0


def register(add: Any) -> None:
    """Add the release commands; `add(name, run, help)` returns the subcommand's parser."""
    add("summary", _summary, "lines read and lines per fate, per lane and import")
    release = add("release", _release, "build everything and cut a release version")
    release.add_argument("--version", help="release version (default: the next vN)")
    release.add_argument(
        "--use",
        default=IntendedUse.TRAIN.value,
        choices=[u.value for u in IntendedUse],
        help="what the release is for (default train); the use rules follow from it",
    )
    add("releases", _releases, "list published releases with their counts")
    verify = add(
        "verify",
        _verify,
        "recompute every file hash of a release and of its pinned inputs; exit 1 on a change",
    )
    verify.add_argument("version")
    trace_cmd = add("trace", _trace, "print the whole chain of one example")
    trace_cmd.add_argument("example_id")
    diff = add("diff", _diff, "compare two releases by lane, teacher, family and fate")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--out", type=Path, help="write the row-level diff to this Parquet file")
