"""The runs' console logger: Dagster's own, at INFO unless a run's config asks for more.

Dagster's default console level is DEBUG (hundreds of engine lines for one step); INFO keeps the
stages' progress lines and the assets' own messages. `log_level: DEBUG` in a run's config
(`loggers: console: config:`) or `born --verbose` brings the engine lines back.
"""

from __future__ import annotations

import dagster as dg

DEFAULT_LEVEL = "INFO"


def console_logger() -> dg.LoggerDefinition:
    """`dg.colored_console_logger` with INFO instead of DEBUG as its default level."""
    return dg.LoggerDefinition(
        logger_fn=dg.colored_console_logger.logger_fn,
        config_schema={
            "log_level": dg.Field(str, default_value=DEFAULT_LEVEL, is_required=False),
            "name": dg.Field(str, default_value="dagster", is_required=False),
        },
        description="Dagster's colored console logger, at INFO by default instead of DEBUG.",
    )
