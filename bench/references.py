"""The two reference pipelines the graph is compared with, run on the same JSONL files.

    python -m bench.references duckdb|python DATA_DIR OUT_DIR
    python -m bench.references parse BLOCKS_PARQUET OUT_DIR

- `duckdb`, the floor: DuckDB reads every JSONL file, hashes each prompt (SHA-256) and writes one
  zstd Parquet file with the warehouse's settings (level 3), two threads, bounded row groups.
  Lines DuckDB cannot read come back as all-NULL rows; they are counted and dropped.
- `python`, the first draft: `json.loads` per line, a set of seen prompt hashes, a regex that
  strips `<think>` blocks, `json.dumps` out to one JSONL file.

- `parse`, the syntax floor: what any pipeline whose syntax gate parses its blocks pays at least.
  Every distinct block the gate parses (`bench.gate_blocks` collects them from the built
  warehouse) is parsed once with the gate's own parse, split over one process per core (a
  separate pool doing nothing else); nothing is written.

Each prints one JSON line of counts; `bench.run` measures them as child processes.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from bench.layout import IMPORT_FOLDER
from born_assets.text.closure import python_parses

PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, ROW_GROUP_SIZE 30000"
COLUMNS = {
    "task_id": "VARCHAR",
    "id": "VARCHAR",
    "prompt": "VARCHAR",
    "response": "VARCHAR",
    "teacher_model": "VARCHAR",
    "model": "VARCHAR",
    "generator_version": "VARCHAR",
    "generation_timestamp": "VARCHAR",
    "created": "VARCHAR",
    "prompt_hash": "VARCHAR",
    "source_type": "VARCHAR",
    "sampling_params": "JSON",
}
THINK = re.compile(r"<think>.*?(?:</think>\s*|$)", re.DOTALL | re.IGNORECASE)


def input_files(data_dir: Path) -> list[Path]:
    """Every lane and import JSONL file of a corpus, in path order."""
    return sorted([*(data_dir / "lanes").glob("*/*.jsonl"), *(data_dir / IMPORT_FOLDER).glob("*")])


def duckdb_floor(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Read, hash and write Parquet with DuckDB; the cheapest way to touch every byte."""
    files = input_files(data_dir)
    out = out_dir / "duckdb-floor.parquet"
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET preserve_insertion_order = false")
    # COPY cannot take prepared parameters: the paths are the bench's own, quoted as literals.
    paths = ", ".join(_literal(f.as_posix()) for f in files)
    columns = ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in COLUMNS.items())
    source = (
        f"read_json([{paths}], format = 'newline_delimited', ignore_errors = true, "
        f"columns = {{{columns}}}, maximum_object_size = 67108864)"
    )
    # Truncated and non-UTF-8 lines come back as all-NULL rows (pitfall 3): drop and count them.
    con.execute(
        f"COPY (SELECT *, sha256(prompt) AS prompt_sha256 FROM {source} WHERE prompt IS NOT NULL) "
        f"TO {_literal(out.as_posix())} ({PARQUET_OPTIONS})"
    )
    ((written,),) = con.execute("SELECT count(*) FROM read_parquet(?)", [out.as_posix()]).fetchall()
    return {"rows_written": written, "bytes_written": out.stat().st_size}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def plain_python(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """The merge script as it is usually first written."""
    files = input_files(data_dir)
    out = out_dir / "plain-python.jsonl"
    seen: set[str] = set()
    counts = {"rows_written": 0, "bad": 0, "duplicates": 0}
    with out.open("w", encoding="utf-8") as sink:
        for path in files:
            with path.open("rb") as handle:
                for line in handle:
                    try:
                        row = json.loads(line)
                        prompt, response = row["prompt"], row["response"]
                        if not isinstance(response, str):
                            raise TypeError("response")
                        digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
                    except (ValueError, KeyError, TypeError, AttributeError):
                        counts["bad"] += 1
                        continue
                    if digest in seen:
                        counts["duplicates"] += 1
                        continue
                    seen.add(digest)
                    row["response"] = THINK.sub("", response)
                    row["prompt_hash"] = digest
                    sink.write(json.dumps(row) + "\n")
                    counts["rows_written"] += 1
    return {**counts, "bytes_written": out.stat().st_size}


def _parse_slice(job: tuple[Path, int, int]) -> tuple[int, int]:
    """(blocks parsed, blocks that do not parse) of rows `start:stop` of a blocks file."""
    path, start, stop = job
    codes = pq.read_table(path, columns=["code"]).column(0).slice(start, stop - start)
    errors = 0
    for code in codes.to_pylist():
        errors += not python_parses(code)
    return len(codes), errors


def parse_floor(blocks: Path, _out_dir: Path) -> dict[str, Any]:
    """Parse every distinct block the syntax gate parses (`bench.gate_blocks`) once, all cores.

    The blocks are split into one contiguous slice per core; each worker parses its slice with
    the gate's own `python_parses` (dedented, warnings off) and does nothing else.
    """
    total = pq.ParquetFile(blocks).metadata.num_rows
    cores = os.cpu_count() or 1
    bounds = [total * i // cores for i in range(cores + 1)]
    jobs = [(blocks, lo, hi) for lo, hi in itertools.pairwise(bounds)]
    with ProcessPoolExecutor(cores) as pool:
        counts = list(pool.map(_parse_slice, jobs))
    return {
        "blocks": sum(b for b, _ in counts),
        "syntax_errors": sum(e for _, e in counts),
        "processes": cores,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=sorted(REFERENCES))
    parser.add_argument("source", type=Path, help="the data dir; for parse, the blocks file")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json.dump(REFERENCES[args.which](args.source, args.out_dir), sys.stdout)
    print()


REFERENCES = {"duckdb": duckdb_floor, "python": plain_python, "parse": parse_floor}

if __name__ == "__main__":
    main()
