"""Curation: gates that measure then decide, the curation_score, and exact dedup.

`gates` measures and judges, `score` scores, `dedup` picks survivors; `stage` runs them over the
`gated` and `deduplicated` tables.
"""
