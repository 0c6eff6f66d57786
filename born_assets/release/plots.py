"""A release's numbers as pictures: PNG plots in `plots/`, byte-reproducible like the rest.

Four plots, computed with DuckDB over the shards (histograms are binned in SQL, so memory does not
grow with the rows; the lengths shard by shard, `release.text_facts`): released rows per
benchmark family, per lane or import, the length of prompts and responses (characters,
log-spaced bins) and the curation score.

Reproducibility: matplotlib's object API (no pyplot, no global state) under its default style
(a user's matplotlibrc is ignored), the DejaVu Sans font matplotlib ships, and PNG metadata
without the software version; the same release gives the same bytes.

Importing matplotlib takes a third of a second, so only a release that is written imports this
module (`release.documents.write_documents`); the plots' names are `layout.ReleaseDir`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import matplotlib as mpl
from matplotlib import patches, style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from born_assets.layout import ReleaseDir
from born_assets.release.text_facts import LENGTH_BINS_PER_DECADE, TextFacts

SCORE_BINS = 20
_RC: dict[str, Any] = {"font.family": "DejaVu Sans", "font.size": 9, "figure.dpi": 100}
_COLORS = {"lane": "#4C72B0", "import": "#DD8452"}


def _counts(
    con: duckdb.DuckDBPyConnection, shards: Sequence[str], column: str
) -> list[tuple[str, str, int]]:
    # `column` is one of this module's fixed names, never data.
    return [
        (str(value), str(kind), int(n))
        for value, kind, n in con.execute(
            f"SELECT {column}, any_value(origin_kind), count(*) FROM read_parquet($s) "
            "GROUP BY 1 ORDER BY 3 DESC, 1",
            {"s": list(shards)},
        ).fetchall()
    ]


def _bar(title: str, counts: list[tuple[str, str, int]], path: Path, by_kind: bool) -> None:
    height = max(2.0, 0.28 * len(counts) + 1.0)
    figure = Figure(figsize=(7.0, height))
    axes = figure.add_subplot()
    labels = [label for label, _, _ in counts][::-1]
    values = [n for _, _, n in counts][::-1]
    colors = [_COLORS.get(kind, "#4C72B0") if by_kind else "#4C72B0" for _, kind, _ in counts]
    axes.barh(labels, values, color=colors[::-1])
    for y, value in enumerate(values):
        axes.annotate(f"{value:,}", (value, y), xytext=(3, 0), textcoords="offset points",
                      va="center")  # fmt: skip
    axes.set_title(title)
    axes.set_xlabel("released rows")
    axes.margins(x=0.15)
    if by_kind:
        axes.legend(
            handles=[patches.Patch(color=c, label=k) for k, c in _COLORS.items()],
            loc="lower right",
        )
    _save(figure, path)


def _lengths(texts: TextFacts, path: Path) -> None:
    figure = Figure(figsize=(7.0, 3.5))
    axes = figure.add_subplot()
    for column, counts, color in (
        ("prompt", texts.prompt_lengths, "#4C72B0"),
        ("response", texts.response_lengths, "#DD8452"),
    ):
        bins = dict(sorted(counts.items()))
        lefts = [10 ** (b / LENGTH_BINS_PER_DECADE) for b in bins]
        widths = [10 ** ((b + 1) / LENGTH_BINS_PER_DECADE) - 10 ** (b / LENGTH_BINS_PER_DECADE)
                  for b in bins]  # fmt: skip
        axes.bar(lefts, list(bins.values()), width=widths, align="edge", alpha=0.6,
                 color=color, label=column)  # fmt: skip
    axes.set_xscale("log")
    axes.set_title("Prompt and response length")
    axes.set_xlabel("characters (log scale)")
    axes.set_ylabel("released rows")
    axes.legend()
    _save(figure, path)


def _scores(con: duckdb.DuckDBPyConnection, shards: Sequence[str], path: Path) -> None:
    rows = con.execute(
        "SELECT least(CAST(floor(curation_score * $n) AS BIGINT), $n - 1), count(*) "
        "FROM read_parquet($s) GROUP BY 1 ORDER BY 1",
        {"s": list(shards), "n": SCORE_BINS},
    ).fetchall() if shards else []  # fmt: skip
    figure = Figure(figsize=(7.0, 3.0))
    axes = figure.add_subplot()
    axes.bar([int(b) / SCORE_BINS for b, _ in rows], [int(n) for _, n in rows],
             width=1 / SCORE_BINS, align="edge", color="#55A868")  # fmt: skip
    axes.set_xlim(0, 1)
    axes.set_title("Curation score")
    axes.set_xlabel("curation_score")
    axes.set_ylabel("released rows")
    _save(figure, path)


def _save(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    FigureCanvasAgg(figure).print_png(path, metadata={"Software": None})


def write_plots(con: duckdb.DuckDBPyConnection, folder: Path, texts: TextFacts) -> list[str]:
    """Write every plot into `plots/`; returns their paths relative to the release folder.

    `texts` holds the counts over the shards' texts (`release.text_facts`).
    """
    release = ReleaseDir(folder)
    shards = [p.as_posix() for p in release.shards()]
    with style.context("default"), mpl.rc_context(_RC):  # type: ignore[arg-type]
        family = _counts(con, shards, "source_benchmark") if shards else []
        lane = _counts(con, shards, "origin_id") if shards else []
        by_family, by_lane, lengths, scores = (release.plot(n) for n in ReleaseDir.PLOT_NAMES)
        _bar("Released rows per benchmark family", family, by_family, False)
        _bar("Released rows per lane and import", lane, by_lane, True)
        _lengths(texts, lengths)
        _scores(con, shards, scores)
    return release.plot_files()
