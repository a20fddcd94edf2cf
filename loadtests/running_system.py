"""How a tool reaches a running `onsale up` from outside, as any client would: its readiness over
HTTP, and development tokens signed with the secret its runtime file names. Shared by
`onsale loadtest` and `onsale demo`, which both drive a development system's API.
"""

import json
import time
import urllib.error
import urllib.request

from gateway.auth import DEVELOPMENT_TENANT_ID, Role, sign_development_token
from gateway.parts import Parts

READY_REQUEST_TIMEOUT_S = 5.0


def readiness(gateway_url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(
            f"{gateway_url}/health/ready", timeout=READY_REQUEST_TIMEOUT_S
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


def sign(parts: Parts, user_id: str, role: Role, ttl_s: int, email: str | None = None) -> str:
    assert parts.jwt_secret is not None, "the demo runs against a development system"
    return sign_development_token(
        parts.jwt_secret,
        user_id=user_id,
        tenant_id=DEVELOPMENT_TENANT_ID,
        roles=[role],
        ttl_s=ttl_s,
        now_s=int(time.time()),
        email=email,
    )
