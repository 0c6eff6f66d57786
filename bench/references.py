"""The two reference pipelines the graph is compared with, run on the same JSONL files.

    python -m bench.references duckdb|python|parse DATA_DIR OUT_DIR

- `duckdb`, the floor: DuckDB reads every JSONL file, hashes each prompt (SHA-256) and writes one
  zstd Parquet file with the warehouse's settings (level 3), two threads, bounded row groups.
  Lines DuckDB cannot read come back as all-NULL rows; they are counted and dropped.
- `python`, the first draft: `json.loads` per line, a set of seen prompt hashes, a regex that
  strips `<think>` blocks, `json.dumps` out to one JSONL file.

- `parse`, the syntax floor: what any pipeline that must `ast.parse` every fenced Python block
  pays at least. orjson per line, blocks found with `str.find`, each parsed once, the files split
  over two processes (the machine's cores); nothing is written.

Each prints one JSON line of counts; `bench.run` measures them as child processes.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import orjson

from bench.layout import IMPORT_FOLDER

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


def duckdb_floor(files: list[Path], out_dir: Path) -> dict[str, Any]:
    """Read, hash and write Parquet with DuckDB; the cheapest way to touch every byte."""
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


def plain_python(files: list[Path], out_dir: Path) -> dict[str, Any]:
    """The merge script as it is usually first written."""
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


FENCE = "```python\n"


def _parse_file(path: Path) -> tuple[int, int]:
    """(python blocks, blocks that do not parse) in one JSONL file's responses."""
    blocks = errors = 0
    with path.open("rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for line in handle:
            try:
                response = orjson.loads(line).get("response")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            at = response.find(FENCE) if isinstance(response, str) else -1
            while at >= 0:
                end = response.find("\n```", at + len(FENCE))
                end = len(response) if end < 0 else end
                blocks += 1
                try:
                    ast.parse(response[at + len(FENCE) : end])
                except SyntaxError:
                    errors += 1
                at = response.find(FENCE, end)
    return blocks, errors


def parse_floor(files: list[Path], out_dir: Path) -> dict[str, Any]:
    """Parse every fenced Python block once, on every core."""
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        counts = list(pool.map(_parse_file, files))
    return {"blocks": sum(b for b, _ in counts), "syntax_errors": sum(e for _, e in counts)}


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=sorted(REFERENCES))
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json.dump(REFERENCES[args.which](input_files(args.data_dir), args.out_dir), sys.stdout)
    print()


REFERENCES = {"duckdb": duckdb_floor, "python": plain_python, "parse": parse_floor}

if __name__ == "__main__":
    main()
