"""The release's dataset card (`README.md`, Hugging Face layout) and its Croissant metadata.

Both files are rendered from a `ReleaseInfo` alone: no clock, no environment, sorted keys where
order carries no meaning, LF line endings. The same release facts give byte-identical files,
which is what lets `release.json` hash them and a re-run prove reproducibility.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from born_assets.layout import ReleaseDir
from born_assets.release.croissant import (
    KEYWORDS,
    SHARD_GLOB,
    citation,
    limitation_statements,
    render_croissant,
    sorted_counts,
    summary_sentence,
)
from born_assets.release.info import ColumnInfo, ReleaseInfo
from born_assets.release.statements import contamination_statements, pii_statements

# SPDX id -> Hugging Face Hub license id (https://huggingface.co/docs/hub/repositories-licenses).
HF_LICENSES = {
    "Apache-2.0": "apache-2.0",
    "BSD-2-Clause": "bsd-2-clause",
    "BSD-3-Clause": "bsd-3-clause",
    "CC-BY-4.0": "cc-by-4.0",
    "CC-BY-SA-4.0": "cc-by-sa-4.0",
    "CC0-1.0": "cc0-1.0",
    "MIT": "mit",
}

# Hugging Face `size_categories` buckets: (exclusive upper bound on rows, label).
SIZE_BUCKETS = (
    (10**3, "n<1K"),
    (10**4, "1K<n<10K"),
    (10**5, "10K<n<100K"),
    (10**6, "100K<n<1M"),
    (10**7, "1M<n<10M"),
    (10**8, "10M<n<100M"),
    (10**9, "100M<n<1B"),
    (10**10, "1B<n<10B"),
    (10**11, "10B<n<100B"),
    (10**12, "100B<n<1T"),
)


def write_card(release_dir: Path, info: ReleaseInfo) -> None:
    """Write `README.md` (the dataset card) and `croissant.json` into `release_dir`."""
    _write(release_dir / ReleaseDir.CARD, render_card(info))
    _write(release_dir / ReleaseDir.CROISSANT, render_croissant(info))


def render_card(info: ReleaseInfo) -> str:
    """The dataset card: YAML front matter, then the Markdown sections."""
    blocks = [
        f"---\n{card_header_yaml(info)}---",
        f"# Born {info.version}",
        _summary(info),
        "## Loading",
        _loading(info),
        "## Citation",
        f"```bibtex\n{citation(info)}\n```",
        "## Intended uses",
        f"This release is for `{info.use}`.",
        "## Out-of-scope uses",
        _bullets(info.out_of_scope_uses)
        or f"Uses other than `{info.use}` are out of scope for this release.",
        "## Sources",
        info.transparency_markdown,
        "## Licenses",
        _licenses(info),
        "## Curation",
        _curation(info),
        "## Personal and sensitive information",
        _pii(info),
        "## Contamination",
        _contamination(info),
        "## Plots",
        _plots(info),
        "## Limitations",
        _bullets(limitation_statements(info)),
        "## Files",
        _files(info),
        "### Columns",
        _columns(info),
    ]
    text = "\n".join(block if block.endswith("\n") else block + "\n" for block in blocks)
    return text.replace("\r\n", "\n")


def card_header(info: ReleaseInfo) -> dict[str, object]:
    """The card's YAML metadata, as the Hugging Face Hub reads it."""
    return {
        **hf_license(info.license),
        "pretty_name": f"Born {info.version}",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": list(KEYWORDS),
        "size_categories": [size_category(info.rows)],
        "configs": [
            {
                "config_name": config.name,
                "data_files": [{"split": ReleaseDir.SHARD_PREFIX, "path": config.shard_glob}],
            }
            for config in info.configs
        ]
        or [
            {
                "config_name": "default",
                "data_files": [{"split": ReleaseDir.SHARD_PREFIX, "path": SHARD_GLOB}],
            }
        ],
    }


def card_header_yaml(info: ReleaseInfo) -> str:
    """The card's YAML metadata as text, keys sorted."""
    return yaml.safe_dump(
        card_header(info), sort_keys=True, allow_unicode=True, default_flow_style=False
    )


def hf_license(expression: str) -> dict[str, str]:
    """Hugging Face license keys for the release's SPDX expression.

    One SPDX id the Hub knows becomes its Hub id (`MIT` -> `mit`). Anything else is `other`,
    with `license_name` (a slug of the expression, or `none`) and `license_details` giving the
    SPDX expression.
    """
    if expression in HF_LICENSES:
        return {"license": HF_LICENSES[expression]}
    if not expression or expression == "NONE":
        return {
            "license": "other",
            "license_name": "none",
            "license_details": "No released row carries a license.",
        }
    return {
        "license": "other",
        "license_name": _slug(expression),
        "license_details": f"SPDX license expression: {expression}",
    }


def size_category(rows: int) -> str:
    """The Hugging Face `size_categories` bucket for `rows`."""
    for bound, label in SIZE_BUCKETS:
        if rows < bound:
            return label
    return "n>1T"


def _summary(info: ReleaseInfo) -> str:
    return (
        f"{summary_sentence(info)}\n\n"
        f"- Dataset id: `{info.dataset_id}` (the same for every version)\n"
        f"- Version: `{info.version}`\n"
        f"- Release date: {info.released_on or 'not recorded'}\n"
        f"- Rows: {info.rows:,}\n"
        f"- Use: `{info.use}`\n"
        f"- License (SPDX): `{info.license or 'NONE'}`\n"
        f"- Machine-readable metadata: `{ReleaseDir.CROISSANT}` (MLCommons Croissant 1.0 with "
        "responsible-AI fields)"
    )


def _loading(info: ReleaseInfo) -> str:
    shards = info.configs[0].shard_glob if info.configs else SHARD_GLOB
    return "\n".join(
        [
            "From this folder (the default config's shards; each config is a glob of its own):",
            "",
            "```python",
            "import glob",
            "",
            "import pandas as pd",
            f'rows = pd.concat(pd.read_parquet(p) for p in sorted(glob.glob("{shards}")))',
            "",
            "import duckdb",
            f"duckdb.sql(\"SELECT origin_id, count(*) FROM '{shards}' GROUP BY ALL\").show()",
            "",
            "from datasets import load_dataset",
            f'rows = load_dataset("parquet", data_files={{"train": "{shards}"}}, split="train")',
            "```",
        ]
    )


def _curation(info: ReleaseInfo) -> str:
    rows = [f"| {_cell(fate)} | {count:,} |" for fate, count in sorted_counts(info.fates)]
    total = f"| **total** | **{sum(info.fates.values()):,}** |"
    table = "\n".join(["| fate | lines |", "|---|---:|", *rows, total])
    return (
        "Every input line ends in exactly one recorded fate; the table counts input lines by "
        f"fate across all sources.\n\n{table}\n\n"
        f"- Curation policy SHA-256: `{info.policy_sha256}`\n"
        f"- Code version: `{info.code_version}`"
    )


def _licenses(info: ReleaseInfo) -> str:
    configs = [
        f"| {c.name} | `{_cell(c.license)}` | {c.rows:,} | `{c.shard_glob}` |" for c in info.configs
    ]
    sources = [f"| {r.origin_id} | `{_cell(r.license)}` | {r.rows:,} |" for r in info.license_rows]
    return "\n".join(
        [
            "Each source declares an SPDX license expression; the policy (`licenses`) decides "
            f"which a `{info.use}` release accepts and keeps share-alike terms in a config of "
            "their own. Rows the policy refuses are withheld (see the fates).",
            "",
            "| config | license (SPDX) | rows | files |",
            "|---|---|---:|---|",
            *configs,
            "",
            "| source | license (SPDX) | released rows |",
            "|---|---|---:|",
            *(sources or ["| (none) | | 0 |"]),
        ]
    )


def _pii(info: ReleaseInfo) -> str:
    statements = pii_statements(info)
    if info.pii is None:
        return "\n\n".join(statements)
    rows = [
        f"| {k.kind} | {'yes' if k.is_secret else 'no'} | {k.rows_redacted:,} | "
        f"{k.findings_redacted:,} | {k.rows_flagged:,} | {k.findings_flagged:,} | "
        f"{k.findings_placeholder:,} |"
        for k in info.pii.kinds
    ]
    table = [
        "| kind | secret | rows redacted | findings redacted | rows flagged | findings flagged "
        "| placeholders |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(rows or ["| (none) | | 0 | 0 | 0 | 0 | 0 |"]),
    ]
    return "\n\n".join([statements[0], "\n".join(table), *statements[2:]])


def _contamination(info: ReleaseInfo) -> str:
    applies, _ = contamination_statements(info)
    rows = [
        f"| {h.eval_id} | {h.rows_matched:,} | {h.rows_excluded:,} | "
        + ", ".join(f"{m} {n:,}" for m, n in h.by_method.items())
        + " |"
        for h in info.contamination
    ]
    return "\n".join(
        [
            applies + f" Evidence per row: `{ReleaseDir.CONTAMINATION_REPORT}`.",
            "",
            "| eval set | rows matched | excluded here | rows by method |",
            "|---|---:|---:|---|",
            *(rows or ["| (none) | 0 | 0 | |"]),
        ]
    )


def _plots(info: ReleaseInfo) -> str:
    return (
        "\n\n".join(f"![{Path(plot).stem.replace('_', ' ')}]({plot})" for plot in info.plots)
        or "No plots."
    )


def _files(info: ReleaseInfo) -> str:
    rows = [f"| `{shard}` | `{info.shard_sha256[shard]}` |" for shard in info.shards]
    return "\n".join(["| file | SHA-256 |", "|---|---|", *rows])


def _columns(info: ReleaseInfo) -> str:
    rows = [
        f"| `{column.name}` | {_type_text(column)} | {_cell(column.description)} |"
        for column in info.columns
    ]
    return "\n".join(["| column | type | description |", "|---|---|---|", *rows])


def _type_text(column: ColumnInfo) -> str:
    """`string`, or a nested column's shape: `list<struct<role: string, ...>>`."""
    text = column.data_type
    if column.sub_fields:
        text = "struct<" + ", ".join(f"{f.name}: {_type_text(f)}" for f in column.sub_fields) + ">"
    return f"list<{text}>" if column.repeated else text


def _bullets(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _slug(expression: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", expression.lower()).strip("-")


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")
