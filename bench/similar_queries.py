"""Child process: time `born similar` queries against a release's stored similarity index.

    python -m bench.similar_queries DATA_DIR VERSION [--queries 20]

Opens the index once (as `born similar` does on every call), then looks up `--queries` prompts
of the release, each reworded (every fifth word dropped), and prints one JSON line: the open
time, the median and worst query time, the open + one query (what one command costs), and how
often the reworded row came back first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pyarrow.parquet as pq

from born_assets.layout import DataDir
from born_assets.release.similar import LoadedIndex, similar


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("version")
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args(argv)
    data = DataDir.at(args.data_dir)
    start = time.perf_counter()
    index = LoadedIndex.open(data.similarity_index(args.version))
    open_s = time.perf_counter() - start
    step = max(1, index.info.rows // args.queries)
    ids = index.rows.read(columns=["example_id"]).column(0)
    wanted = [ids[i].as_py() for i in range(0, index.info.rows, step)]
    shards = data.release(args.version).shards()
    texts = pq.read_table(
        shards,
        columns=["example_id", "prompt"],
        filters=[("example_id", "in", wanted[: args.queries])],
    ).to_pylist()
    seconds, first = [], 0
    for row in texts:
        words = row["prompt"].split()
        reworded = " ".join(w for n, w in enumerate(words) if n % 5 != 4)
        start = time.perf_counter()
        hits = similar([index], [reworded], 5)
        seconds.append(time.perf_counter() - start)
        first += bool(hits) and hits[0].example_id == row["example_id"]
    print(
        json.dumps(
            {
                "rows": index.info.rows,
                "open_s": open_s,
                "query_median_s": statistics.median(seconds),
                "query_max_s": max(seconds),
                "open_plus_query_s": open_s + statistics.median(seconds),
                "queries": len(seconds),
                "reworded_row_first": first,
            }
        )
    )


if __name__ == "__main__":
    main()
