"""Postgres connection URLs: derive the URL of another database or another role on one server.

The owner URL (DATABASE_URL) runs migrations; the service connects as a role that owns nothing,
on the same server, so its URL is derived here rather than configured twice.
"""

from urllib.parse import quote, urlsplit, urlunsplit


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database)))


def with_user(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    credentials = quote(user) if password is None else f"{quote(user)}:{quote(password)}"
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
