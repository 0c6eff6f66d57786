"""Versioned releases: folder layout, build, verify, diff and trace (Dagster-free)."""
