"""People poke at the warehouse with SQL: `born views` must give one working view per table."""

from __future__ import annotations

from pathlib import Path

import duckdb

from born_assets.cli.main import main
from born_assets_tests.graph import materialize_all


def test_views_cover_every_table_and_follow_the_latest_materialization(data_dir: Path) -> None:
    materialize_all(data_dir)
    assert main(["--data-dir", str(data_dir), "views"]) == 0
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        names = {
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        assert {
            "row_fates",
            "sanitized",
            "gated",
            "deduplicated_exits",
            "lanes_humaneval_reference_quarantine",
        } <= names
        ((lines,),) = con.execute("SELECT count(*) FROM row_fates").fetchall()
        ((files,),) = con.execute(
            "SELECT sum(lines_read) FROM lanes_humaneval_reference_files"
        ).fetchall()
    assert lines > 0 and files == 109
