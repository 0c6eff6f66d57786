"""Dagster assets: thin wrappers over the pure modules, one module per stage."""
