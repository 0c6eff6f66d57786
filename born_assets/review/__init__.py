"""Human review: sample rows into a sheet, read the verdicts back, and decide what they allow.

`sheet` exports and imports review sheets (CSV and JSONL), `candidates` picks the rows to review
from the warehouse or a release with DuckDB, `records` keeps the imported verdicts as the review
table, and `rules` says which rows a release may not use without an approving review.
"""
