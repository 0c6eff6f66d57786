"""Sanitization: strip hidden reasoning, keep what a user would see, rewrite into closure format.

`pipeline.sanitize_row` turns one row into its visible closure; `stage` runs it over the
`sanitized` table in batches.
"""
