"""Producing a lane's teacher outputs from an OpenAI-compatible endpoint, lineage included.

Nothing here imports dagster. `spec` holds the manifest's `generation:` model and imports only
`born_assets.specs`, so `born_assets.manifests` can use it without an import cycle; this package
file imports nothing for the same reason.
"""
