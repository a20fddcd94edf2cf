"""Bearer-token authentication: turns `Authorization: Bearer <JWT>` into a verified Principal.

TokenVerifier pins its keys and algorithms once, at start: HS256 with a secret outside production,
EdDSA or RS256 with the configured public key, never `none`. Every refusal is an UNAUTHENTICATED
ApiError whose message never repeats the token. A change to the claims read here changes API.md
first.
"""

import base64
import binascii
import enum
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
import msgspec
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidSubjectError
from jwt.types import Options

from engine.limits import (
    BEARER_TOKEN_CHARACTERS_MAX,
    JWT_SECRET_BYTES_MIN,
    MILLISECONDS_PER_SECOND,
    RSA_KEY_BITS_MIN,
    TOKEN_CLOCK_LEEWAY_MS,
    TOKEN_TTL_S_MAX,
    USER_ID_CHARACTERS_MAX,
)
from gateway.canonical_ids import canonical_uuid
from gateway.contact_claims import email_of, name_of
from gateway.errors import ApiError, ErrorCode
from gateway.settings import Settings, SettingsError
from services.scanner_devices import is_device_token

ISSUER = "onsale"
AUDIENCE = "onsale"
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "tenant", "roles"]
# PyJWT reads "1700000000", 1.7e9 and true as times; a token of ours carries whole seconds.
TIME_CLAIMS = ("exp", "iat", "nbf")
# Texts a token gives us end up in logs, ids and mail headers: none may break a line or end early.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
DEVELOPMENT_ALGORITHM = "HS256"
DEVELOPMENT_TENANT_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
TENANT_REFUSAL = "the tenant claim must be a UUID string (8-4-4-4-12 hexadecimal digits)"

VerificationKey = bytes | Ed25519PublicKey | RSAPublicKey


class Role(enum.StrEnum):
    FAN = "fan"
    VENUE_STAFF = "venue_staff"
    VENUE_MANAGER = "venue_manager"
    ADMIN = "admin"


ROLE_NAMES = frozenset(Role)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The verified caller of one request."""

    user_id: str
    tenant_id: uuid.UUID
    roles: frozenset[Role]
    email: str | None = None
    name: str | None = None

    def has_any_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def caller(self) -> str:
        """Scopes idempotency keys and rate limits: one `sub` in two tenants is two callers.

        The tenant id has a fixed length, so no user id can pose as another tenant's caller.
        """
        return f"{self.tenant_id}/{self.user_id}"


# Our own words, never PyJWT's: they stay stable and can never quote the token back.
REFUSALS: dict[type[jwt.InvalidTokenError], str] = {
    jwt.ExpiredSignatureError: "the token has expired; get a new one",
    jwt.ImmatureSignatureError: "the token is not valid yet (iat or nbf is in the future)",
    jwt.InvalidAudienceError: f"the token is not meant for this API: aud must be {AUDIENCE!r}",
    jwt.InvalidIssuerError: f"the token was not issued for this API: iss must be {ISSUER!r}",
    jwt.InvalidSignatureError: "the token's signature does not verify",
    InvalidSubjectError: "the sub claim must be a string",
    jwt.InvalidTokenError: "the token is malformed: expected a signed JWT",
}


def unauthenticated(message: str) -> ApiError:
    return ApiError(ErrorCode.UNAUTHENTICATED, message=message)


def refusal_message(error: jwt.InvalidTokenError) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the token lacks the required {error.claim!r} claim"
    return next(message for kind, message in REFUSALS.items() if isinstance(error, kind))


def public_key_and_algorithm(pem: str) -> tuple[VerificationKey, str]:
    """The algorithm follows from the key type, so a token can never choose how it is checked."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise SettingsError(["ONSALE_JWT_PUBLIC_KEY is not a PEM public key"]) from None
    match key:
        case Ed25519PublicKey():
            return key, "EdDSA"
        case RSAPublicKey() if key.key_size >= RSA_KEY_BITS_MIN:
            return key, "RS256"
        case RSAPublicKey():
            raise SettingsError(
                [f"ONSALE_JWT_PUBLIC_KEY is too short: RSA keys need {RSA_KEY_BITS_MIN} bits"]
            )
        case _:
            raise SettingsError(
                ["ONSALE_JWT_PUBLIC_KEY must be an Ed25519 (EdDSA) or RSA (RS256) public key"]
            )


def pinned_keys(settings: Settings, jwt_secret: str | None) -> dict[str, VerificationKey]:
    """One key per accepted algorithm; production never pins HS256, whatever secret is given."""
    keys: dict[str, VerificationKey] = {}
    if settings.jwt_public_key:
        key, algorithm = public_key_and_algorithm(settings.jwt_public_key)
        keys[algorithm] = key
    if jwt_secret and not settings.is_production:
        if len(jwt_secret.encode()) < JWT_SECRET_BYTES_MIN:
            raise SettingsError(
                [f"ONSALE_JWT_SECRET is too short: use at least {JWT_SECRET_BYTES_MIN} bytes"]
            )
        keys[DEVELOPMENT_ALGORITHM] = jwt_secret.encode()
    if not keys and settings.is_production:
        raise SettingsError(
            ["ONSALE_JWT_PUBLIC_KEY is missing: production verifies EdDSA or RS256"]
        )
    if not keys:
        raise SettingsError(
            [
                "ONSALE_JWT_SECRET is missing: set it, or start with `onsale up`, which generates "
                "a development secret in the data directory"
            ]
        )
    return keys


class UnverifiedHeader(msgspec.Struct):
    """The one header field read before the signature is checked: which pinned key checks it.
    PyJWT reads and checks the whole header again when it verifies the token."""

    alg: object = None


UNVERIFIED_HEADER_DECODER = msgspec.json.Decoder(UnverifiedHeader)


def unverified_algorithm(token: str) -> object:
    """The `alg` the token's header names, whatever its type; UNAUTHENTICATED if the header is
    not base64url JSON."""
    header = token.partition(".")[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        return UNVERIFIED_HEADER_DECODER.decode(decoded).alg
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise unauthenticated(REFUSALS[jwt.InvalidTokenError]) from None


def bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise unauthenticated("an `Authorization: Bearer <token>` header is required")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthenticated("the Authorization header must read `Bearer <token>`")
    if len(token) > BEARER_TOKEN_CHARACTERS_MAX:
        raise unauthenticated(f"the token is longer than {BEARER_TOKEN_CHARACTERS_MAX} characters")
    return token


def check_lifetime(claims: dict[str, object], *, now_s: float, lifetime_s_max: int) -> None:
    """The times are whole seconds, and the token is valid for at most `lifetime_s_max` from now,
    and from its `iat` when it has one (which it need not: API.md does not list it)."""
    for name in TIME_CLAIMS:
        if name in claims and type(claims[name]) is not int:
            raise unauthenticated(f"the {name} claim must be a whole number of seconds")
    expires_at_s = claims["exp"]
    assert isinstance(expires_at_s, int), "PyJWT requires exp, checked to be an int above"
    issued_at_s = claims.get("iat")
    if expires_at_s - now_s > lifetime_s_max + TOKEN_CLOCK_LEEWAY_MS / MILLISECONDS_PER_SECOND or (
        isinstance(issued_at_s, int) and expires_at_s - issued_at_s > lifetime_s_max
    ):
        raise unauthenticated(
            f"the token is valid for longer than {lifetime_s_max} s; get one that expires sooner"
        )


def check_text_claim(claims: dict[str, object], name: str) -> None:
    """An optional text claim is a string without control characters when it is there."""
    value = claims.get(name)
    if value is not None and (not isinstance(value, str) or CONTROL_CHARACTERS.search(value)):
        raise unauthenticated(f"the {name} claim must be text without control characters")


def principal_from_claims(
    claims: dict[str, object], *, now_s: float, lifetime_s_max: int
) -> Principal:
    """Unknown role names are ignored, so a new role at the issuer locks nobody out; a token
    naming no role of ours is refused."""
    check_lifetime(claims, now_s=now_s, lifetime_s_max=lifetime_s_max)
    user_id = claims["sub"]
    assert isinstance(user_id, str), "PyJWT checks that sub is a string"
    if not 0 < len(user_id) <= USER_ID_CHARACTERS_MAX:
        raise unauthenticated(f"the sub claim must be 1 to {USER_ID_CHARACTERS_MAX} characters")
    check_text_claim(claims, "sub")
    check_text_claim(claims, "email")
    check_text_claim(claims, "name")
    tenant = claims["tenant"]
    tenant_id = canonical_uuid(tenant) if isinstance(tenant, str) else None
    if tenant_id is None:
        raise unauthenticated(TENANT_REFUSAL)
    role_names = claims["roles"]
    if not isinstance(role_names, list) or not all(isinstance(n, str) for n in role_names):
        raise unauthenticated("the roles claim must be a list of role names")
    roles = frozenset(Role(name) for name in role_names if name in ROLE_NAMES)
    if not roles:
        raise unauthenticated(f"the roles claim names none of: {', '.join(Role)}")
    return Principal(
        user_id=user_id,
        tenant_id=tenant_id,
        roles=roles,
        email=email_of(claims),
        name=name_of(claims),
    )


class PinnedHMAC(HMACAlgorithm):
    """HS256 for the one pinned secret. PyJWT prepares the key for every token it verifies,
    trying the secret as a PEM, an SSH and a DER key each time; the pinned one was tried once."""

    def __init__(self, secret: bytes) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._secret = super().prepare_key(secret)

    def prepare_key(self, key: str | bytes) -> bytes:
        return self._secret if key is self._secret else super().prepare_key(key)


class ClaimsDecoder(jwt.PyJWT):
    """PyJWT with the pinned HS256 secret prepared once, reading the verified payload with
    msgspec through the hook PyJWT leaves for it; a payload that is not a JSON object is refused
    as PyJWT's own reading would refuse it."""

    def __init__(self, options: Options, hmac_secret: bytes | None) -> None:
        super().__init__(options)
        if hmac_secret is not None:
            # PyJWT checks signatures with its PyJWS, which takes algorithms by registration.
            signatures = self._jws
            signatures.unregister_algorithm(DEVELOPMENT_ALGORITHM)
            signatures.register_algorithm(DEVELOPMENT_ALGORITHM, PinnedHMAC(hmac_secret))

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        try:
            return CLAIMS_DECODER.decode(decoded["payload"])
        except msgspec.DecodeError as error:
            raise jwt.DecodeError(f"Invalid payload string: {error}") from None


CLAIMS_DECODER = msgspec.json.Decoder(dict[str, Any])


def algorithm_refusal(algorithm: object, accepted: Iterable[str]) -> str:
    if isinstance(algorithm, str) and algorithm.lower() == "none":
        return "unsigned tokens (alg none) are never accepted"
    return f"the token's algorithm is not accepted here; use {', '.join(sorted(accepted))}"


class TokenVerifier:
    """Verifies bearer tokens against the keys and algorithms pinned when it was built.

    `jwt_secret` is the runtime's resolved development secret (`Parts.jwt_secret`); it falls back
    to `settings.jwt_secret`. Building raises SettingsError when no usable key is configured.
    With one pinned key PyJWT itself refuses every other algorithm; with two, the token's header
    is read first to choose the key, and PyJWT checks that choice again.
    """

    def __init__(self, settings: Settings, *, jwt_secret: str | None = None) -> None:
        self._keys = pinned_keys(settings, jwt_secret or settings.jwt_secret)
        self._lifetime_s_max = settings.token_lifetime_s_max
        self._only_key: tuple[VerificationKey, list[str]] | None = None
        if len(self._keys) == 1:
            [(algorithm, key)] = self._keys.items()
            self._only_key = (key, [algorithm])
        hmac_secret = self._keys.get(DEVELOPMENT_ALGORITHM)
        assert hmac_secret is None or isinstance(hmac_secret, bytes)
        self._decoder = ClaimsDecoder(
            {"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True}, hmac_secret
        )

    @property
    def algorithms(self) -> frozenset[str]:
        return frozenset(self._keys)

    def principal(self, authorization: str | None) -> Principal:
        """The caller named by an `Authorization` header value, or an UNAUTHENTICATED ApiError."""
        token = bearer_token(authorization)
        if is_device_token(token):
            raise unauthenticated(
                "a scanner device's token is accepted only by the scan, scan manifest and "
                "offline scans routes"
            )
        key, algorithms = self._only_key or self._key_named_by(token)
        try:
            claims = self._decoder.decode(
                token,
                key,
                algorithms=algorithms,
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=TOKEN_CLOCK_LEEWAY_MS / MILLISECONDS_PER_SECOND,
            )
        except jwt.InvalidAlgorithmError:
            raise unauthenticated(
                algorithm_refusal(unverified_algorithm(token), self._keys)
            ) from None
        except jwt.InvalidTokenError as error:
            raise unauthenticated(refusal_message(error)) from None
        return principal_from_claims(claims, now_s=time.time(), lifetime_s_max=self._lifetime_s_max)

    def _key_named_by(self, token: str) -> tuple[VerificationKey, list[str]]:
        algorithm = unverified_algorithm(token)
        if not isinstance(algorithm, str) or algorithm not in self._keys:
            raise unauthenticated(algorithm_refusal(algorithm, self._keys))
        return self._keys[algorithm], [algorithm]


def require_roles(principal: Principal, *roles: Role) -> Principal:
    """The principal itself when it holds any of `roles`, else a FORBIDDEN ApiError."""
    assert roles, "a route names at least one role it allows"
    if not principal.has_any_role(*roles):
        raise ApiError(
            ErrorCode.FORBIDDEN, message=f"this needs one of the roles: {', '.join(roles)}"
        )
    return principal


def sign_development_token(
    secret: str,
    *,
    user_id: str,
    tenant_id: uuid.UUID,
    roles: Iterable[Role],
    ttl_s: int,
    now_s: int,
    email: str | None = None,
    name: str | None = None,
) -> str:
    """An HS256 token for development, tests, the demo and load runs; never valid in production."""
    if not secret:
        raise ValueError("no development secret: set ONSALE_JWT_SECRET or start `onsale up`")
    if len(secret.encode()) < JWT_SECRET_BYTES_MIN:
        raise ValueError(f"the secret is too short: use at least {JWT_SECRET_BYTES_MIN} bytes")
    if not 0 < ttl_s <= TOKEN_TTL_S_MAX:
        raise ValueError(f"the ttl must be 1 to {TOKEN_TTL_S_MAX} seconds")
    role_names = sorted(str(role) for role in set(roles))
    if not role_names:
        raise ValueError("a token needs at least one role")
    claims = {
        "sub": user_id,
        "tenant": str(tenant_id),
        "roles": role_names,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now_s,
        "exp": now_s + ttl_s,
    }
    if email is not None:
        claims["email"] = email
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm=DEVELOPMENT_ALGORITHM)
