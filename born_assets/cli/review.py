"""`born review export` and `born review import`: the review round trip on the command line.

`born_assets.cli.main` registers them with `add_review_commands(commands)`; `main` sets
`args.data` (the data dir) before they run, and turns `ValueError` (a refused sheet) and
`FileNotFoundError` into one line `born: <message>` with exit status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import duckdb

from born_assets.cli.output import note
from born_assets.layout import OutsideDataDir
from born_assets.review.candidates import review_candidates, row_hashes
from born_assets.review.records import write_review_records
from born_assets.review.sheet import export_review_sheet, sheet_stem
from born_assets.review.verdicts import import_review_sheet, sheet_example_ids
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.policy import Policy


def _release_dir(args: argparse.Namespace) -> Path | None:
    if not args.release:
        return None
    release = args.data.release(args.release)
    if not release.is_published():
        sheet = f"{args.sheet}: " if getattr(args, "sheet", None) else ""
        published = ", ".join(r.version for r in args.data.published_releases()) or "none"
        raise FileNotFoundError(
            f"{sheet}--release {args.release}: no published release {args.release} under "
            f"{release.path.parent} (published: {published})"
        )
    return Path(release.path)


def review_export(args: argparse.Namespace) -> int:
    """Sample rows from the warehouse (or a release) into a review sheet."""
    if args.sample_n < 1:
        raise ValueError(f"--sample-n must be >= 1, got {args.sample_n}")
    sheet_stem(args.name, lane=args.lane, seed=args.seed, sample_n=args.sample_n)
    folder = _sheet_folder(args)
    with duckdb.connect() as con:
        rows = review_candidates(
            con,
            args.data,
            sample_n=args.sample_n,
            lane=args.lane,
            seed=args.seed,
            release_dir=_release_dir(args),
            exclude_contaminated=IntendedUse(args.use)
            in Policy.load(args.data.policy).contamination.applies_to,
        )
    sheet = export_review_sheet(
        rows,
        folder,
        sample_n=args.sample_n,
        lane=args.lane,
        seed=args.seed,
        name=args.name,
    )
    print(f"{len(sheet.example_ids)} rows to review:\n  {sheet.csv_path}\n  {sheet.jsonl_path}")
    note(
        "fill in `verdict` (approved, rejected or needs_review; empty: not reviewed), then run "
        f"born review import {sheet.csv_path.name} --reviewer YOU"
    )
    return 0


def _sheet_folder(args: argparse.Namespace) -> Path:
    """Where sheets go: inside the data dir, so that an erasure reaches their row content.

    Never into the releases folder: a published release is immutable.
    """
    if args.out is None:
        return Path(args.data.review_sheets)
    folder = args.data.output(args.out, "--out")
    if not folder.is_relative_to(args.data.root):
        raise OutsideDataDir(
            "--out",
            f"{str(args.out)!r} is outside the data dir ({args.data.root}): a sheet "
            "holds row content that an erasure must be able to reach",
        )
    return folder


def review_import(args: argparse.Namespace) -> int:
    """Check a filled-in sheet against the current rows and store its verdicts."""
    sheet: Path = args.sheet
    if not sheet.exists() and (args.data.review_sheets / sheet).exists():
        sheet = args.data.review_sheets / sheet
    with duckdb.connect() as con:
        current = row_hashes(
            con, args.data, sheet_example_ids(sheet), release_dir=_release_dir(args)
        )
    records = import_review_sheet(sheet, args.reviewer, current)
    path = write_review_records(records, args.data.review_records)
    counts = records["human_review_status"].value_counts().sort_index()
    print(", ".join(f"{status} {count}" for status, count in counts.items()))
    print(f"{len(records)} verdicts stored in {path}; the next release applies them")
    return 0


def add_review_commands(commands: Any, with_example: Any) -> None:
    """Add `review export` and `review import`; `with_example(parser, text)` adds the example."""
    review = with_example(
        commands.add_parser("review", help="human review: export a sample, import verdicts"),
        "born review export --lane mbpp-plus-reference --sample-n 20\n"
        "born review import review-mbpp-plus-reference-s0-n20.csv --reviewer me@example.org",
    )
    actions = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    export = with_example(
        actions.add_parser("export", help="write a review sheet (CSV + JSONL) of a sample"),
        "born review export --lane mbpp-plus-reference --sample-n 20 --seed 1",
    )
    export.set_defaults(run=review_export)
    export.add_argument("--sample-n", type=int, default=50, help="rows to sample (default 50)")
    export.add_argument("--lane", help="only this lane or import id")
    export.add_argument("--seed", type=int, default=0, help="chooses the sample (default 0)")
    export.add_argument("--release", help="sample a release's rows instead of the warehouse")
    export.add_argument(
        "--use",
        default=IntendedUse.TRAIN.value,
        choices=[u.value for u in IntendedUse],
        help="the release use the review is for (default train): for a use the policy does not "
        "exclude contaminated rows from (eval), they are offered too",
    )
    export.add_argument(
        "--name", help="file stem, a plain name (default review-<lane>-s<seed>-n<n>)"
    )
    export.add_argument(
        "--out",
        type=Path,
        help="folder inside the data dir, not in releases/ (default <data dir>/reviews/sheets)",
    )
    imported = with_example(
        actions.add_parser("import", help="store the verdicts of a filled-in sheet"),
        "born review import review-mbpp-plus-reference-s0-n20.csv --reviewer me@example.org",
    )
    imported.set_defaults(run=review_import)
    imported.add_argument("sheet", type=Path, help="the .csv or .jsonl sheet")
    imported.add_argument("--reviewer", required=True, help="who reviewed (e-mail or id)")
    imported.add_argument("--release", help="check the sheet against this release's rows")
