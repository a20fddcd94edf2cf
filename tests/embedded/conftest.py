"""The embedded parts' tests share the notification tests' running SMTP sink."""

from tests.notifications.conftest import smtp_sink

__all__ = ["smtp_sink"]
