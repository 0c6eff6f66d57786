"""What a release says about personal data, contamination and licences, in sentences and tables.

Every number comes from the release's own files (`ReleaseInfo` is built from the shards, the fate
ledger, `pii_report.parquet` and `contamination_report.parquet`); nothing here is a fixed claim.
The dataset card shows the tables, the Croissant RAI fields carry the sentences.
"""

from __future__ import annotations

from born_assets.release.info import ReleaseInfo

HASH_BEFORE_REDACTION = (
    "`prompt_hash` is the SHA-256 of the prompt exactly as it was sent to the teacher, computed "
    "at ingest, before any redaction: it identifies the prompt across lanes and releases. Where "
    "the scan redacted a prompt, the released `prompt` therefore no longer hashes to "
    "`prompt_hash`; the row's `post_processing` lists the `redact_pii` step with its counts."
)
NAME_DETECTION = (
    "Person names are detected with a first- and last-name gazetteer and context rules "
    "(`pii.names` in the policy). Measured on the project's labelled sample of real public data "
    "(122 windows, 81 names): precision 1.00, recall 0.83. Names the gazetteer does not know "
    "without a cue (a title, a greeting, an author field), names in lower case and user handles "
    "(`mia_li_3668`) are missed; a missed name stays in the text."
)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def pii_statements(info: ReleaseInfo) -> list[str]:
    """What the PII and secrets scan found and did in this release's rows."""
    pii = info.pii
    if pii is None:
        return ["No PII scan ran on this release: its rows were not checked for personal data."]
    statuses = ", ".join(f"{status} {n:,}" for status, n in pii.rows_by_status.items()) or "none"
    found = [
        f"{k.kind}: {_plural(k.rows_redacted, 'row')} redacted ({k.findings_redacted:,} "
        f"findings), {_plural(k.rows_flagged, 'row')} flagged ({k.findings_flagged:,} findings)"
        for k in pii.kinds
        if k.findings_redacted or k.findings_flagged
    ]
    secrets = sum(k.findings_redacted + k.findings_flagged for k in pii.secrets)
    secret_rows = ", ".join(
        f"{k.kind} {k.findings_redacted + k.findings_flagged:,}"
        for k in pii.secrets
        if k.findings_redacted or k.findings_flagged
    )
    statements = [
        f"Every released row was scanned for personal data and secrets. Of {pii.rows:,} "
        f"released rows, by pii_scan_status: {statuses}.",
        "Real findings per kind: " + ("; ".join(found) if found else "none") + ".",
        f"Secrets found (keys, tokens, passwords): {secrets:,}"
        + (f" ({secret_rows})." if secret_rows else "."),
        f"{_plural(pii.prompts_changed, 'released row')} carry a prompt changed after it was "
        "hashed (PII redacted or hidden reasoning stripped; `post_processing` lists each step). "
        + HASH_BEFORE_REDACTION,
        NAME_DETECTION,
    ]
    placeholders = sum(k.findings_placeholder for k in pii.kinds)
    if placeholders:
        statements.append(
            f"{placeholders:,} placeholder values (example.com addresses, documentation IP "
            "ranges, template keys) were recognized as not real and left in the text."
        )
    return statements


def contamination_statements(info: ReleaseInfo) -> list[str]:
    """What the eval-contamination checks found, per eval set, and what this release did."""
    applies = (
        f"Contaminated rows are excluded from {info.use} releases (policy "
        "contamination.applies_to)."
        if info.contamination_applies
        else f"Policy contamination.applies_to does not list {info.use}: rows matching an eval "
        "set are not excluded from this release for that reason."
    )
    hits = [
        f"{h.eval_id}: {_plural(h.rows_matched, 'row')} matched, {h.rows_excluded:,} excluded "
        f"here (" + ", ".join(f"{m} {n:,}" for m, n in h.by_method.items()) + ")"
        for h in info.contamination
    ]
    return [applies, "Eval-set hits: " + ("; ".join(hits) if hits else "none") + "."]


def license_statements(info: ReleaseInfo) -> list[str]:
    """The release's licence expression, per config, and rows per source and licence."""
    configs = "; ".join(f"config {c.name} ({c.rows:,} rows): {c.license}" for c in info.configs)
    per_source = "; ".join(f"{r.origin_id} {r.license}: {r.rows:,} rows" for r in info.license_rows)
    return [
        f"License (SPDX): {info.license}.",
        f"Per config: {configs or 'none'}.",
        f"Released rows per source and license: {per_source or 'none'}.",
    ]
