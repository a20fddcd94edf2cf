"""The one written form of a UUID the API reads, in paths, queries, cursors and token claims:
8-4-4-4-12 hexadecimal digits, in either case.

`uuid.UUID` also takes braces, a `urn:uuid:` prefix, no hyphens and digits of other scripts, which
would make one id many strings; any such text names nothing here.
"""

import re
import uuid

CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def canonical_uuid(text: str) -> uuid.UUID | None:
    """The UUID `text` spells in the canonical form; None for any other text."""
    if CANONICAL_UUID.fullmatch(text) is None:
        return None
    return uuid.UUID(text)
