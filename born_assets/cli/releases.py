"""`born release`, `releases`, `verify`, `diff`, `trace`, `summary`: cut and read releases."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb

from born_assets import layout
from born_assets.cli.output import add_json_flag, note, print_json
from born_assets.cli.progress import run_output
from born_assets.cli.summary import fate_summary, format_summary
from born_assets.layout import Asset
from born_assets.release.catalog import next_version, refusal_counts
from born_assets.release.changes import changes_since_previous
from born_assets.release.diff import diff_releases, format_diff
from born_assets.release.pins import ChangedInput, changed_inputs
from born_assets.release.preflight import release_preflight
from born_assets.release.publish import read_release_json, verify_release
from born_assets.release.trace import TracePaths, format_trace, trace
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.project import Project
from born_assets.store.memo import code_version


def _summary(args: argparse.Namespace) -> int:
    releases = args.data.published_releases()
    version = releases[-1].version if releases else None
    ledger = releases[-1].fates if releases else args.data.stage(Asset.ROW_FATES) / layout.ROW_FATES
    summaries = fate_summary(ledger)
    if args.json:
        print_json({"release": version, "ledger": ledger, "sources": summaries})
        return 0
    if version:
        print(f"fates in release {version} ({ledger}):")
    else:
        print(f"fates in the warehouse, no release yet ({ledger}):")
    print(format_summary(summaries))
    return 0


def _stale_inputs(args: argparse.Namespace, version: str) -> str | None:
    """Why re-cutting a published `version` would be refused, known before building; or None.

    A release is immutable: cut again, it must come from the same inputs. What can be rehashed
    without a build (every pinned file, the source files, the code, the use) is compared here,
    as `born verify` does; the build itself compares the rest.
    """
    release = args.data.release(version)
    if not release.release_json.is_file():
        return None
    inputs = read_release_json(release.path)["inputs"]
    changed = [change.path for change in changed_inputs(args.data, inputs)]
    changed += [
        k for k, now in (("code_version", code_version()), ("use", args.use)) if inputs[k] != now
    ]
    if not changed:
        return None
    named = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return (
        f"release {version} already exists and is immutable; its inputs changed since it was "
        f"cut ({named}). Cut a new version instead: born release (next {next_version(args.data)})"
    )


def _release(args: argparse.Namespace) -> int:
    from born_assets.defs.runner import check_version_name, failure_messages, materialize_release

    if args.version is not None:  # given, even empty: checked, never replaced by the next vN
        check_version_name(args.version)
    problems = release_preflight(args.data)
    if problems:
        print("born: release refused before building; fix these first:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    version = next_version(args.data) if args.version is None else args.version
    if (stale := _stale_inputs(args, version)) is not None:
        print(f"born: {stale}", file=sys.stderr)
        return 2
    with run_output(args) as log_level:
        result = materialize_release(args.data, version, IntendedUse(args.use), log_level)
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
    with duckdb.connect() as con:
        print(f"changes: {changes_since_previous(con, args.data, version).sentence()}")
    print(f"next version: {next_version(args.data)}")
    return 0


def _releases(args: argparse.Namespace) -> int:
    releases = args.data.published_releases()
    documents = [read_release_json(release.path) for release in releases]
    if args.json:
        print_json(
            [
                {"version": r.version, "path": r.path, **{k: d[k] for k in _LISTED if k in d}}
                for r, d in zip(releases, documents, strict=True)
            ]
        )
        return 0
    if not releases:
        note("no releases yet (make release)")
    for release, doc in zip(releases, documents, strict=True):
        fates = ", ".join(f"{k} {v}" for k, v in doc["counts_by_fate"].items())
        print(
            f"{release.version:<12} {doc['rows']:>8} rows  use={doc['use']}  "
            f"built {doc['built_at']}  ({fates})"
        )
    return 0


_LISTED = ("rows", "use", "built_at", "dataset_id", "license", "counts_by_fate")


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
    document = read_release_json(folder)
    inputs = document["inputs"]
    changed = changed_inputs(args.data, inputs)
    pinned = len({**inputs["pins"]["files"], **inputs["source_files"]})
    now = code_version()
    code_changed = now != inputs["code_version"]
    if code_changed:
        changed.append(ChangedInput("code_version", inputs["code_version"], now))
    status = 1 if mismatches or changed else 0
    if args.json:
        print_json(
            {
                "version": args.version,
                "intact": status == 0,
                "files": len(document["files"]),
                "mismatches": mismatches,
                "pinned_inputs": pinned,
                "changed_inputs": changed,
            }
        )
        return status
    for m in mismatches:
        print(
            f"MISMATCH {m.path}: expected {m.expected or 'no file'}, found {m.actual or 'no file'}"
        )
    print(f"release {args.version}: {len(document['files'])} files, {len(mismatches)} mismatches")
    for change in changed[:-1] if code_changed else changed:
        print(f"INPUT CHANGED {change}")
    print(f"pinned inputs: {pinned} files, {len(changed) - code_changed} changed")
    if code_changed:
        print(f"INPUT CHANGED code version: pinned {inputs['code_version']}, now {now}")
    return status


def _trace(args: argparse.Namespace) -> int:
    project = Project.load(args.data)
    paths = TracePaths(args.data, project.source_dirs(), project.spec_files())
    with duckdb.connect() as con:
        sections = trace(con, paths, args.example_id)
    if args.json:
        print_json(
            {
                "example_id": args.example_id,
                "sections": [{"section": t, "content": c} for t, c in sections],
            }
        )
    else:
        print(format_trace(args.example_id, sections))
    return 1 if sections and sections[0][0] == "not found" else 0


def _diff(args: argparse.Namespace) -> int:
    old, new = _published(args, args.old), _published(args, args.new)
    if old is None or new is None:
        return 2
    out = args.data.output(args.out, "--out") if args.out else None
    with duckdb.connect() as con:
        result = diff_releases(con, old, new, out)
    if args.json:
        print_json({"old": args.old, "new": args.new, "out": args.out, **asdict(result)})
    else:
        print(format_diff(args.old, args.new, result))
    if args.out:
        note(f"row-level diff written to {args.out}")
    return 0


def register(add: Any) -> None:
    """Add the release commands; `add(name, run, help, example)` returns its parser."""
    summary = add(
        "summary",
        _summary,
        "lines read and lines per fate, per lane and import",
        "born summary\nborn summary --json",
    )
    add_json_flag(summary)
    release = add(
        "release",
        _release,
        "build everything and cut a release version",
        "born release                      # the next version, for training\n"
        "born release --version v4 --use eval",
    )
    release.add_argument("--version", help="release version (default: the next vN)")
    release.add_argument(
        "--use",
        default=IntendedUse.TRAIN.value,
        choices=[u.value for u in IntendedUse],
        help="what the release is for (default train); the use rules follow from it",
    )
    listed = add(
        "releases",
        _releases,
        "list published releases with their counts",
        "born releases\nborn releases --json",
    )
    add_json_flag(listed)
    verify = add(
        "verify",
        _verify,
        "recompute every file hash of a release and of its pinned inputs; exit 1 on a change",
        "born verify v1\nborn verify v1 --json",
    )
    verify.add_argument("version")
    add_json_flag(verify)
    trace_cmd = add(
        "trace",
        _trace,
        "print the whole chain of one example",
        "born trace ex_4a7ee04f7a0ce3082e0c1717\nborn trace ex_4a7ee04f7a0ce3082e0c1717 --json",
    )
    trace_cmd.add_argument("example_id")
    add_json_flag(trace_cmd)
    diff = add(
        "diff",
        _diff,
        "compare two releases by lane, teacher, family and fate",
        "born diff v1 v2\nborn diff v1 v2 --out diff.parquet --json",
    )
    add_json_flag(diff)
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument(
        "--out",
        type=Path,
        help="write the row-level diff to this Parquet file (whole or not at all; not inside "
        "releases/)",
    )
