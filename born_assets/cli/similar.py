"""`born similar`: which released rows look like this text, this failing task, this example."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from born_assets.cli.output import add_json_flag, note, print_json
from born_assets.release.similar import (
    Hit,
    Method,
    UnknownExample,
    choose_indexes,
    hit_dict,
    similar,
    text_of,
)


def _queries(args: argparse.Namespace) -> Iterator[tuple[str, list[str]]]:
    """(label, texts) of each query the arguments name."""
    if args.text is not None:
        yield "text", [args.text]
    elif args.id is not None:
        yield args.id, []  # resolved once the indexes are open
    else:
        yield from _file_queries(args.file, args.field)


def _file_queries(path: Path, field: str) -> Iterator[tuple[str, list[str]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: not JSON ({error.msg})") from None
            value = record.get(field) if isinstance(record, dict) else None
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{where}, field {field!r}: missing or not a non-empty string")
            yield f"{path.name}:{number}", [value]


def _print_table(label: str, hits: list[Hit]) -> None:
    print(f"# {label}")
    if not hits:
        print("  (no released row shares a shingle with it)")
    for hit in hits:
        print(
            f"  {hit.score:.3f}  {hit.release}  {hit.example_id}  {hit.origin}  "
            f"{hit.teacher_model}  {hit.family}  {hit.source}"
        )
        print(f"         {hit.preview}")


def _similar(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise ValueError("-k must be >= 1")
    if args.text is not None and not args.text.strip():
        raise ValueError("--text: must be a non-empty string (an empty one resembles nothing)")
    indexes = choose_indexes(args.data, args.release, args.all)
    for index in indexes:
        if (reason := index.stale(args.data)) is not None:
            note(f"warning: {reason}")
    results: list[dict[str, Any]] = []
    for label, texts in _queries(args):
        if args.id is not None:
            try:
                found = text_of(indexes, args.data, args.id)
            except UnknownExample as error:  # an unknown example: a finding, as in `born history`
                note(f"born: {error}")
                return 1
            more = similar(indexes, found, args.k + 1, args.method)
            hits = [h for h in more if h.example_id != args.id][: args.k]
        else:
            hits = similar(indexes, texts, args.k, args.method)
        if args.json:
            results += [{"query": label, "rank": n, **hit_dict(h)} for n, h in enumerate(hits, 1)]
        else:
            _print_table(label, hits)
    if args.json:
        print_json(results)
    return 0


def register(add: Any) -> None:
    """Add `born similar`; `add(name, run, help, example)` returns its parser."""
    parser = add(
        "similar",
        _similar,
        "the released rows most similar to a text, a JSONL file of failing tasks, or an example",
        "born similar --text 'Write a function to reverse a linked list' -k 3\n"
        "born similar --file failing.jsonl --field prompt --all --json",
    )
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", help="the text to look for (e.g. a failing task's prompt)")
    query.add_argument("--file", type=Path, help="JSONL of failing tasks, one a line")
    query.add_argument("--id", metavar="EXAMPLE_ID", help="rows similar to this example")
    parser.add_argument("--field", default="prompt", help="the JSONL field holding the text")
    parser.add_argument("-k", type=int, default=5, help="rows per query (default 5)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--release", metavar="VERSION", help="one release (default: the latest)")
    which.add_argument("--all", action="store_true", help="every published release")
    add_json_flag(parser)
    parser.add_argument(
        "--method",
        type=Method,
        choices=list(Method),
        default=Method.MINHASH,
        help="minhash (estimated Jaccard, default) or embedding (cosine; an index built with "
        "similarity.embedding_model, the embedding extra)",
    )
