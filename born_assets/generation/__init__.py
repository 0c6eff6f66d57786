"""Producing a lane's teacher outputs from an OpenAI-compatible endpoint, lineage included.

The manifest's `generation:` section is modelled in `born_assets.specs.generation`.
"""
