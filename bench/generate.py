"""Generate a seeded synthetic corpus into a data dir that `born_assets` runs on unchanged.

    python -m bench.generate DATA_DIR [--rows N] [--seed S] [--workers W]

Writes the spec files (see `bench.layout`), the JSONL of every lane and of the import, and
`bench-corpus.json`: the spec, bytes and lines per file, and the fates the graph must reach
(quarantined by reason, gated out, duplicates, released). The same spec gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from bench.layout import IMPORT_FOLDER, CorpusSpec, lane_folder, write_specs
from bench.rows import GATED_ROLES, Corpus, Role, break_record, import_record, lane_record
from bench.texts import Thinking
from born_assets.schemas.vocabulary import QuarantineReason as Q

PLAN_FILE = "bench-corpus.json"


def _line(corpus: Corpus, index: int, first_line: bytes, tally: Counter[str]) -> bytes:
    """The bytes of one line (without its newline), counting what it is meant to become."""
    source = corpus.source_of(index)
    kind = corpus.bad.get(index)
    role = Role.PLAIN if kind else corpus.role(index)
    thinking = Thinking.ONLY if kind is Q.EMPTY_VISIBLE_CONTENT else corpus.thinking(index)
    prompt_index = index
    if role is Role.DUPLICATE:
        lane_number = corpus.sources.index(source)
        prompt_index = corpus.duplicate_source(index, lane_number)
    prompt = corpus.prompt(prompt_index)
    response = corpus.response(index, role, thinking)
    row = (
        lane_record(source.lane, index, prompt, response)
        if source.lane
        else import_record(index, prompt, response)
    )
    line = orjson.dumps(row)
    tally["think" if thinking is not Thinking.NONE else "no_think"] += 1
    if kind is None or kind is Q.EMPTY_VISIBLE_CONTENT:
        fate = "gated_out" if role in GATED_ROLES else role.value
        tally["quarantined:" + kind.value if kind else fate] += 1
        return line
    tally["quarantined:" + kind.value] += 1
    broken = break_record(kind, row, line, first_line)
    return broken if isinstance(broken, bytes) else orjson.dumps(broken)


def write_files(
    spec: CorpusSpec, jobs: list[tuple[str, int]], data_dir: Path
) -> list[dict[str, Any]]:
    """Write the files `(source, file number)` of one worker (the text pools are built once)."""
    corpus = Corpus(spec)
    return [write_file(corpus, name, number, data_dir) for name, number in jobs]


def write_file(corpus: Corpus, source_name: str, number: int, data_dir: Path) -> dict[str, Any]:
    """Write one JSONL file of a lane or the import; returns its path, size and tally."""
    spec = corpus.spec
    source = next(s for s in corpus.sources if s.name == source_name)
    start, rows = spec.files(source_name)[number]
    folder = lane_folder(source_name) if source.lane else IMPORT_FOLDER
    path = data_dir / folder / f"part-{number:03d}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    tally: Counter[str] = Counter()
    first_line = b""
    with path.open("wb", buffering=1 << 20) as handle:
        for index in range(source.offset + start, source.offset + start + rows):
            line = _line(corpus, index, first_line, tally)
            first_line = first_line or line
            handle.write(line + b"\n")
    return {
        "path": path.relative_to(data_dir).as_posix(),
        "lines": rows,
        "bytes": path.stat().st_size,
        "tally": dict(tally),
    }


def expected_fates(tally: Counter[str], lines: int) -> dict[str, Any]:
    """Fates the graph must reach for a corpus with this tally."""
    quarantined = {k.split(":", 1)[1]: n for k, n in sorted(tally.items()) if ":" in k}
    fates = {
        "quarantined": sum(quarantined.values()),
        "gated_out": tally["gated_out"],
        "duplicate": tally[Role.DUPLICATE.value],
    }
    fates["released"] = lines - sum(fates.values())
    return {"fates": fates, "quarantined_by_reason": quarantined}


def generate(spec: CorpusSpec, data_dir: Path, workers: int = 1) -> dict[str, Any]:
    """Write the whole corpus and its plan; returns the plan (also in `bench-corpus.json`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    write_specs(data_dir)
    jobs = [(s, n) for s in spec.lane_rows() for n in range(len(spec.files(s)))]
    shares = [jobs[k::workers] for k in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        done = pool.map(write_files, [spec] * workers, shares, [data_dir] * workers)
        files = sorted((f for share in done for f in share), key=lambda f: str(f["path"]))
    tally: Counter[str] = Counter()
    for item in files:
        tally.update(item["tally"])
    lines = sum(item["lines"] for item in files)
    plan = {
        "spec": asdict(spec),
        "lines": lines,
        "bytes": sum(item["bytes"] for item in files),
        "files": files,
        "tally": dict(sorted(tally.items())),
        **expected_fates(tally, lines),
    }
    (data_dir / PLAN_FILE).write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
    return plan


def add_lane_file(spec: CorpusSpec, data_dir: Path, source_name: str, rows: int) -> Path:
    """Add one new file of `rows` well-formed rows to a lane (the incremental case).

    Its rows are numbered after every row of the corpus, so they are new examples.
    """
    corpus = Corpus(spec)
    folder = data_dir / lane_folder(source_name)
    number = len(list(folder.glob("*.jsonl")))
    path = folder / f"part-{number:03d}-added.jsonl"
    lane = next(s.lane for s in corpus.sources if s.name == source_name)
    assert lane is not None, "the added file belongs to a lane"
    first = spec.rows + 1_000_000_000 * (number + 1)
    with path.open("wb") as handle:
        for index in range(first, first + rows):
            role = corpus.role(index)
            role = Role.PLAIN if role is Role.DUPLICATE else role
            prompt, thinking = corpus.prompt(index, lane.family), corpus.thinking(index)
            row = lane_record(lane, index, prompt, corpus.response(index, role, thinking))
            handle.write(orjson.dumps(row) + b"\n")
    return path


def main(argv: list[str] | None = None) -> None:
    """Command line: generate a corpus into a data dir."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=CorpusSpec(rows=0).seed)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    plan = generate(CorpusSpec(rows=args.rows, seed=args.seed), args.data_dir, args.workers)
    print(json.dumps({k: plan[k] for k in ("lines", "bytes", "fates")}, indent=2))


if __name__ == "__main__":
    main()
