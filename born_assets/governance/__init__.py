"""Governance: PII and secret scanning, contamination and erasure (pure Python, no Dagster)."""
