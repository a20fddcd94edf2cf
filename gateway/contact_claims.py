"""The optional contact claims of a token, `email` and `name`: where a fan's notices go, and the
name the service desk finds their orders by. A malformed one is ignored, so a token is never
refused for a claim it need not carry (auth.py has already refused control characters)."""

import re

from engine.desk_limits import CONTACT_NAME_CHARACTERS_MAX
from engine.limits import CONTACT_EMAIL_CHARACTERS_MAX

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email_of(claims: dict[str, object]) -> str | None:
    email = claims.get("email")
    if (
        isinstance(email, str)
        and 0 < len(email) <= CONTACT_EMAIL_CHARACTERS_MAX
        and EMAIL_PATTERN.fullmatch(email)
    ):
        return email
    return None


def name_of(claims: dict[str, object]) -> str | None:
    name = claims.get("name")
    if isinstance(name, str) and 0 < len(name.strip()) <= CONTACT_NAME_CHARACTERS_MAX:
        return name.strip()
    return None
