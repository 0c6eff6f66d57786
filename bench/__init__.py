"""Benchmark of the born_assets graph: synthetic corpus, reference pipelines, measurements."""
