"""`born erase`: record an erasure request and honour it everywhere."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import duckdb
from pydantic import ValidationError

from born_assets.cli.output import note
from born_assets.cli.progress import run_output
from born_assets.governance.erasure_stage import preview
from born_assets.governance.erasure_verify import collect_needles, erased_locations, scan
from born_assets.specs.common import field_problems
from born_assets.specs.erasure import ErasureFilter, ErasureRequest, ErasureTarget, append_request
from born_assets.specs.project import Project

# The option that gave each field of a request, for one-line refusals.
_FLAGS = {
    "id": "--id",
    "requester": "--requester",
    "reason": "--reason",
    "example_id": "--example-id",
    "source_benchmark": "--source",
    "source_id": "--source",
    "import_id": "--import-row",
    "import_row_id": "--import-row",
    "origin": "--origin",
    "pattern": "--pattern",
}


def _two_parts(value: str, flag: str, form: str) -> tuple[str, str]:
    first, colon, second = value.partition(":")
    if not (colon and first.strip() and second.strip()):
        raise ValueError(f"{flag}: {value!r} is not {form}")
    return first, second


def _erase_target(args: argparse.Namespace) -> ErasureTarget:
    if args.source is not None:
        benchmark, task = _two_parts(args.source, "--source", "BENCHMARK:TASK_ID")
        return ErasureTarget(source_benchmark=benchmark, source_id=task)
    if args.import_row is not None:
        import_id, row_id = _two_parts(args.import_row, "--import-row", "IMPORT_ID:SOURCE_ROW_ID")
        return ErasureTarget(import_id=import_id, import_row_id=row_id)
    return ErasureTarget(example_id=args.example_id, origin=args.origin, pattern=args.pattern)


def _request(args: argparse.Namespace, now: datetime) -> ErasureRequest:
    """The request the options describe; a bad value is one line naming its option."""
    try:
        return ErasureRequest(
            id=args.id if args.id is not None else f"ER-{now:%Y%m%d-%H%M%S}",
            requester=args.requester,
            reason=args.reason,
            requested_at=now,
            target=_erase_target(args),
        )
    except ValidationError as error:
        field, message = field_problems(error)[0]
        name = field.rsplit(".", 1)[-1]
        raise ValueError(f"{_FLAGS.get(name, name or 'target')}: {message}") from None


def _verify(args: argparse.Namespace) -> int:
    project = Project.load(args.data)
    with duckdb.connect() as con:
        erased = erased_locations(con, project.source_dirs(), args.verify)
    if not erased:
        print(
            f"born: request {args.verify} erased no line in the warehouse "
            "(is it recorded in erasure/requests.yaml, and was the graph built since?)",
            file=sys.stderr,
        )
        return 1
    needles = collect_needles(args.data, project.input_files(), erased)
    if needles.lines < len(erased):
        print(
            f"born: {len(erased) - needles.lines} of the {len(erased)} erased lines could not be "
            "re-read from their source files (changed or gone); they cannot be searched for",
            file=sys.stderr,
        )
        return 1
    found = scan(args.data, needles)
    for name, hits in found.items():
        print(f"  {name}: {hits}")
    total = sum(found.values())
    print(
        f"request {args.verify}: {needles.lines} erased lines, {len(needles.strings)} strings "
        f"searched for under {args.data.root}: {total} found"
    )
    return 0 if total == 0 else 1


def _erase(args: argparse.Namespace) -> int:
    from born_assets.defs.runner import failure_messages, materialize_graph

    if args.verify:
        return _verify(args)
    if not (args.reason and args.requester):
        print("born: erase needs --reason and --requester", file=sys.stderr)
        return 2

    request = _request(args, datetime.now(UTC))
    dirs = Project.load(args.data).source_dirs()
    with duckdb.connect() as con:
        matches, in_releases = preview(con, args.data, dirs, ErasureFilter([request]))
    print(f"request {request.id}: {len(matches)} rows in the warehouse match")
    for _, origin, example_id in matches[:20]:
        print(f"  {origin}  {example_id}")
    for version, count in in_releases.items():
        print(f"  release {version}: {count} rows")
    if args.dry_run:
        print("dry run: nothing was changed")
        return 0
    path = append_request(args.data, request)
    note(f"request recorded in {path}; rebuilding the warehouse and rewriting releases")
    with run_output(args) as log_level:
        result = materialize_graph(args.data, log_level)
    for message in failure_messages(result):
        print(f"born: {message}", file=sys.stderr)
    return 0 if result.success else 1


def register(add: Any) -> None:
    """Add `born erase`; `add(name, run, help, example)` returns its parser."""
    erase = add(
        "erase",
        _erase,
        "record an erasure request and honour it everywhere",
        "born erase --source swebench_lite:django__django-15202 --reason 'author request' "
        "--requester legal@example.org --dry-run",
    )
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
    target.add_argument(
        "--verify",
        metavar="REQUEST",
        help="scan every file under the data dir for the request's erased lines; print the count",
    )
    erase.add_argument("--reason", help="why (required unless --verify)")
    erase.add_argument("--requester", help="who asked (required unless --verify)")
    erase.add_argument("--id", help="request id (default: ER-<UTC timestamp>)")
    erase.add_argument("--dry-run", action="store_true", help="show what would go; change nothing")
