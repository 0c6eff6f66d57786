"""Governance: contamination control, PII and secrets, use limits, and erasure."""
