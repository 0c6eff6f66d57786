"""Trace format adapters: public trace datasets and lane outputs into one neutral model.

Each adapter maps one source record to a `TraceExample` (see `conversation`); `registry.FORMATS`
names them.
"""
