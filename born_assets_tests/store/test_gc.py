"""Warehouse folders of removed sources do not stay forever, and `born gc` shows before it deletes.

A lane or import whose spec is gone leaves its rows in the warehouse; nothing reads them, yet
they are data someone removed. A broken spec is not a removed one: gc refuses while any is.
"""

from __future__ import annotations

from pathlib import Path

from born_assets.cli.main import main


def source(warehouse: Path, group: str, name: str) -> list[Path]:
    version = warehouse / group / f".{name}.0123456789abcdef"
    version.mkdir(parents=True)
    (version / "rows.parquet").write_bytes(b"rows")
    link = warehouse / group / name
    link.symlink_to(version.name, target_is_directory=True)
    lock = warehouse / ".locks" / f"{group}__{name}.lock"
    lock.parent.mkdir(exist_ok=True)
    lock.touch()
    return [link, version, lock]


def test_gc_lists_then_removes_only_the_folders_of_removed_sources(data_dir: Path, capsys) -> None:
    warehouse = data_dir / "warehouse"
    live = source(warehouse, "lanes", "humaneval-reference")
    gone = source(warehouse, "imports", "withdrawn-dataset")
    assert main(["--data-dir", str(data_dir), "gc"]) == 0
    out = capsys.readouterr().out
    assert "warehouse/imports/withdrawn-dataset\n" in out and "humaneval" not in out
    assert "3 entries of sources no spec defines; run `born gc --yes`" in out
    assert all(p.exists() or p.is_symlink() for p in gone)  # listing removes nothing
    assert main(["--data-dir", str(data_dir), "gc", "--yes"]) == 0
    assert not any(p.exists() or p.is_symlink() for p in gone)
    assert all(p.exists() for p in live)
    assert main(["--data-dir", str(data_dir), "gc"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_gc_refuses_while_a_spec_is_broken(data_dir: Path, capsys) -> None:
    gone = source(data_dir / "warehouse", "lanes", "ds1000-reference")
    spec = data_dir / "manifests" / "ds1000-reference.yaml"
    spec.write_text(spec.read_text().replace("lane_id:", "lane_idd:"))
    assert main(["--data-dir", str(data_dir), "gc", "--yes"]) == 1
    assert "gc refused" in capsys.readouterr().err
    assert all(p.exists() for p in gone)
