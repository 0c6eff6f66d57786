"""`born gc`: list, then (with --yes) remove warehouse folders of sources no spec defines."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from born_assets.layout import SOURCE_GROUPS
from born_assets.specs.project import Project
from born_assets.store.gc import remove, stale_source_folders


def _gc(args: argparse.Namespace) -> int:
    project = Project.load(args.data)
    if project.errors:
        print(
            "born: gc refused: a broken spec's folder cannot be told from a removed one; fix:",
            file=sys.stderr,
        )
        for error in project.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    live = [(SOURCE_GROUPS["lane"], m.manifest.lane_id) for m in project.lanes]
    live += [(SOURCE_GROUPS["import"], i.spec.import_id) for i in project.imports]
    stale = stale_source_folders(args.data, live)
    for path in stale:
        print(f"  {args.data.relative(path)}")
    if not stale:
        print("nothing to remove: every source folder in the warehouse has a spec")
    elif args.yes:
        remove(stale)
        print(f"removed {len(stale)} entries of sources no spec defines")
    else:
        print(f"{len(stale)} entries of sources no spec defines; run `born gc --yes` to remove")
    return 0


def register(add: Any) -> None:
    """Add `born gc`; `add(name, run, help, example)` returns its parser."""
    gc = add(
        "gc",
        _gc,
        "list (and with --yes remove) warehouse folders of removed sources",
        "born gc && born gc --yes",
    )
    gc.add_argument("--yes", action="store_true", help="remove what is listed")
