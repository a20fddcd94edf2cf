"""Bearer tokens: real tokens and real keys, accepted only as API.md's Authentication says."""

import base64
import json
import pathlib
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from embedded.runtime_file import write_runtime_file
from engine.limits import (
    BEARER_TOKEN_CHARACTERS_MAX,
    TOKEN_CLOCK_LEEWAY_MS,
    TOKEN_LIFETIME_S_MAX,
    TOKEN_TTL_S_MAX,
)
from gateway.auth import (
    DEVELOPMENT_TENANT_ID,
    Principal,
    Role,
    TokenVerifier,
    require_roles,
    sign_development_token,
)
from gateway.errors import ApiError, ErrorCode
from gateway.parts import Parts
from gateway.settings import Environment, Settings, SettingsError
from onsale.cli import main

SECRET = "development-secret-for-tests-0123456789abcdef"
TENANT_ID = uuid.UUID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")
OTHER_TENANT_ID = uuid.UUID("0b8e7d6c-5a4b-4c3d-9e2f-1a0b9c8d7e6f")
PRODUCTION_ENVIRONMENT = {
    "ONSALE_ENV": "production",
    "DATABASE_URL": "postgresql://owner@db.internal:5432/onsale",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_API_KEY": "sk_live_abc123",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc123",
    "SOLANA_RPC_URL": "https://rpc.internal",
    "SOLANA_MINT_AUTHORITY_KEY": "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw",
    "ONSALE_ACCESS_SECRET": "a" * 48,
    "SMTP_URL": "smtps://mailer:secret@smtp.internal:465",
    "SOLANA_CUSTODY_SEED": "s" * 48,
}


def public_pem(private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def development_verifier() -> TokenVerifier:
    return TokenVerifier(Settings(environment=Environment.DEVELOPMENT, jwt_secret=SECRET))


def production_verifier(
    private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> TokenVerifier:
    settings = Settings(environment=Environment.PRODUCTION, jwt_public_key=public_pem(private_key))
    return TokenVerifier(settings, jwt_secret=SECRET)


def claims(**overrides: object) -> dict[str, object]:
    now_s = int(time.time())
    values: dict[str, object] = {
        "sub": "fan-17",
        "tenant": str(TENANT_ID),
        "roles": ["fan"],
        "iss": "onsale",
        "aud": "onsale",
        "iat": now_s,
        "exp": now_s + 600,
    }
    values |= overrides
    return {name: value for name, value in values.items() if value is not None}


def bearer(token: str) -> str:
    return f"Bearer {token}"


def base64url(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def refusal(verifier: TokenVerifier, authorization: str | None) -> str:
    """The refusal's message, checked to be UNAUTHENTICATED and free of the token."""
    with pytest.raises(ApiError) as raised:
        verifier.principal(authorization)
    assert raised.value.code is ErrorCode.UNAUTHENTICATED
    message = str(raised.value)
    token = (authorization or "").partition(" ")[2].strip()
    if token:
        assert token not in message
        assert all(segment not in message for segment in token.split(".") if len(segment) > 8)
    return message


def test_principal_is_read_when_an_hs256_token_is_valid_in_development() -> None:
    token = jwt.encode(claims(roles=["venue_manager", "fan"]), SECRET, algorithm="HS256")

    principal = development_verifier().principal(bearer(token))

    assert principal == Principal(
        user_id="fan-17", tenant_id=TENANT_ID, roles=frozenset({Role.VENUE_MANAGER, Role.FAN})
    )


def test_principal_is_read_when_the_scheme_is_written_in_lower_case() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert development_verifier().principal(f"bearer  {token} ").user_id == "fan-17"


def test_principal_is_read_when_an_eddsa_token_is_valid_in_production(
    ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    verifier = production_verifier(ed25519_key)
    token = jwt.encode(claims(roles=["admin"]), ed25519_key, algorithm="EdDSA")

    assert verifier.algorithms == {"EdDSA"}
    assert verifier.principal(bearer(token)).roles == {Role.ADMIN}


def test_principal_is_read_when_an_rs256_token_is_valid_in_production(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    verifier = production_verifier(rsa_key)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")

    assert verifier.algorithms == {"RS256"}
    assert verifier.principal(bearer(token)).tenant_id == TENANT_ID


def test_both_algorithms_are_accepted_when_development_also_has_a_public_key(
    ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    settings = Settings(jwt_secret=SECRET, jwt_public_key=public_pem(ed25519_key))
    verifier = TokenVerifier(settings)

    assert verifier.algorithms == {"HS256", "EdDSA"}
    for token in (
        jwt.encode(claims(), SECRET, algorithm="HS256"),
        jwt.encode(claims(), ed25519_key, algorithm="EdDSA"),
    ):
        assert verifier.principal(bearer(token)).user_id == "fan-17"


def test_principal_is_read_when_expired_within_the_clock_leeway() -> None:
    token = jwt.encode(
        claims(exp=int(time.time()) - TOKEN_CLOCK_LEEWAY_MS // 3_000), SECRET, algorithm="HS256"
    )
    assert development_verifier().principal(bearer(token)).user_id == "fan-17"


def test_unknown_roles_are_ignored_when_a_known_role_is_present() -> None:
    token = jwt.encode(claims(roles=["fan", "superuser"]), SECRET, algorithm="HS256")
    assert development_verifier().principal(bearer(token)).roles == {Role.FAN}


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE"])
def test_unauthenticated_when_the_token_is_unsigned_with_the_none_algorithm(
    algorithm: str,
) -> None:
    token = f"{base64url({'alg': algorithm, 'typ': 'JWT'})}.{base64url(claims())}."
    assert "none" in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_the_token_has_expired() -> None:
    token = sign_development_token(
        SECRET,
        user_id="fan-17",
        tenant_id=TENANT_ID,
        roles=[Role.FAN],
        ttl_s=60,
        now_s=int(time.time()) - 3_600,
    )
    assert "expired" in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_the_signature_is_made_with_another_secret() -> None:
    token = jwt.encode(claims(), "another-secret-of-enough-length-0123456789", algorithm="HS256")
    assert "signature" in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_the_payload_is_changed_after_signing() -> None:
    header, _, signature = jwt.encode(claims(), SECRET, algorithm="HS256").split(".")
    forged = f"{header}.{base64url(claims(roles=['admin']))}.{signature}"
    assert "signature" in refusal(development_verifier(), bearer(forged))


def test_unauthenticated_when_the_audience_is_another_api() -> None:
    token = jwt.encode(claims(aud="billing"), SECRET, algorithm="HS256")
    assert "aud" in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_the_issuer_is_another() -> None:
    token = jwt.encode(claims(iss="someone-else"), SECRET, algorithm="HS256")
    assert "iss" in refusal(development_verifier(), bearer(token))


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub", "tenant", "roles"])
def test_unauthenticated_when_a_required_claim_is_missing(claim: str) -> None:
    token = jwt.encode(claims(**{claim: None}), SECRET, algorithm="HS256")
    assert repr(claim) in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_an_hs256_token_reaches_production_even_with_a_secret(
    ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert "EdDSA" in refusal(production_verifier(ed25519_key), bearer(token))


def test_unauthenticated_when_the_public_key_is_used_as_an_hs256_secret(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    signing_input = f"{base64url({'alg': 'HS256', 'typ': 'JWT'})}.{base64url(claims())}"
    signature = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256).sign(
        signing_input.encode(), public_pem(rsa_key).encode()
    )
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert "algorithm" in refusal(production_verifier(rsa_key), bearer(token))


def test_unauthenticated_when_an_rs256_token_is_signed_with_another_key(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(), other_rsa_key, algorithm="RS256")
    assert "signature" in refusal(production_verifier(rsa_key), bearer(token))


def test_unauthenticated_when_the_algorithm_is_not_the_pinned_one(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS512")
    assert "RS256" in refusal(production_verifier(rsa_key), bearer(token))


@pytest.mark.parametrize("authorization", [None, "", "   "])
def test_unauthenticated_when_the_header_is_missing(authorization: str | None) -> None:
    assert "Authorization" in refusal(development_verifier(), authorization)


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Token abc.def.ghi", "Bearer"])
def test_unauthenticated_when_the_header_is_not_a_bearer_token(authorization: str) -> None:
    assert "Bearer <token>" in refusal(development_verifier(), authorization)


@pytest.mark.parametrize(
    "token",
    ["garbage", "not.a.jwt", "a.b.c.d", "eyJhbGciOiJIUzI1NiJ9.%%%.xyz", "....", "W10.e30.c2ln"],
)
def test_unauthenticated_when_the_token_is_garbage(token: str) -> None:
    assert "malformed" in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_the_token_is_too_long() -> None:
    token = jwt.encode(claims(padding="x" * BEARER_TOKEN_CHARACTERS_MAX), SECRET, algorithm="HS256")
    assert "longer" in refusal(development_verifier(), bearer(token))


@pytest.mark.parametrize("tenant", ["not-a-uuid", "", 42, ["6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"]])
def test_unauthenticated_when_the_tenant_is_not_a_uuid_string(tenant: object) -> None:
    token = jwt.encode(claims(tenant=tenant), SECRET, algorithm="HS256")
    assert "tenant" in refusal(development_verifier(), bearer(token))


@pytest.mark.parametrize("roles", [[], ["superuser"], "fan", [1]])
def test_unauthenticated_when_the_roles_name_no_known_role(roles: object) -> None:
    token = jwt.encode(claims(roles=roles), SECRET, algorithm="HS256")
    assert "roles" in refusal(development_verifier(), bearer(token))


@pytest.mark.parametrize("sub", ["", "x" * 256, 17])
def test_unauthenticated_when_the_subject_is_not_a_short_string(sub: object) -> None:
    token = jwt.encode(claims(sub=sub), SECRET, algorithm="HS256")
    assert "sub" in refusal(development_verifier(), bearer(token))


@pytest.mark.parametrize(
    "lifetime_s",
    [TOKEN_LIFETIME_S_MAX + TOKEN_CLOCK_LEEWAY_MS // 1_000 + 60, 10**12],
    ids=["8 days", "1e12"],
)
def test_unauthenticated_when_the_token_expires_after_the_maximum_lifetime(
    lifetime_s: int,
) -> None:
    token = jwt.encode(
        claims(iat=None, exp=int(time.time()) + lifetime_s), SECRET, algorithm="HS256"
    )
    assert "longer" in refusal(development_verifier(), bearer(token))


def test_unauthenticated_when_the_token_was_issued_for_longer_than_the_maximum_lifetime() -> None:
    now_s = int(time.time())
    issued_at_s = now_s - TOKEN_LIFETIME_S_MAX
    token = jwt.encode(claims(iat=issued_at_s, exp=now_s + 600), SECRET, algorithm="HS256")
    assert "longer" in refusal(development_verifier(), bearer(token))


def test_principal_is_read_when_the_token_has_no_iat() -> None:
    token = jwt.encode(claims(iat=None), SECRET, algorithm="HS256")
    assert development_verifier().principal(bearer(token)).user_id == "fan-17"


def test_principal_is_read_when_a_longer_lifetime_is_configured() -> None:
    week_and_a_day_s = TOKEN_LIFETIME_S_MAX + 86_400
    settings = Settings(jwt_secret=SECRET, token_lifetime_s_max=2 * TOKEN_LIFETIME_S_MAX)
    token = jwt.encode(claims(exp=int(time.time()) + week_and_a_day_s), SECRET, algorithm="HS256")
    assert TokenVerifier(settings).principal(bearer(token)).user_id == "fan-17"


@pytest.mark.parametrize(
    ("claim", "offset_s", "form"),
    [
        ("exp", 600, str),
        ("exp", 600, float),
        ("iat", 0, str),
        ("nbf", -10, str),
        ("nbf", -10, float),
    ],
)
def test_unauthenticated_when_a_time_claim_is_not_a_whole_number(
    claim: str, offset_s: int, form: type
) -> None:
    token = jwt.encode(
        claims(**{claim: form(int(time.time()) + offset_s)}), SECRET, algorithm="HS256"
    )
    assert claim in refusal(development_verifier(), bearer(token))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", "fan\x0017"),
        ("sub", "fan-17\n"),
        ("sub", "fan\u202817"),
        ("email", "fan\x00@example.com"),
        ("email", "fan@example.com\r\nBcc: x@example.com"),
        ("name", "Ann\x7fLee"),
        ("email", 42),
        ("name", ["Ann"]),
    ],
)
def test_unauthenticated_when_a_text_claim_is_not_text_without_control_characters(
    claim: str, value: object
) -> None:
    token = jwt.encode(claims(**{claim: value}), SECRET, algorithm="HS256")
    assert claim in refusal(development_verifier(), bearer(token))


def test_principal_is_read_when_the_name_and_email_are_plain_text() -> None:
    token = jwt.encode(
        claims(name="Zoë\u200cAnn", email="fan@example.com"), SECRET, algorithm="HS256"
    )
    assert development_verifier().principal(bearer(token)).email == "fan@example.com"


@pytest.mark.parametrize(
    "tenant",
    [
        "{6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b}",
        "urn:uuid:6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
        "6f1c2a9e3b4d4e5f8a7b9c0d1e2f3a4b",
        "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4\u0664",
        "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b\n",
    ],
    ids=["braces", "urn", "no hyphens", "arabic-indic digit", "newline"],
)
def test_unauthenticated_when_the_tenant_is_not_a_canonical_uuid(tenant: str) -> None:
    token = jwt.encode(claims(tenant=tenant), SECRET, algorithm="HS256")
    assert "tenant" in refusal(development_verifier(), bearer(token))


def test_principal_is_read_when_the_tenant_is_written_in_upper_case() -> None:
    token = jwt.encode(claims(tenant=str(TENANT_ID).upper()), SECRET, algorithm="HS256")
    assert development_verifier().principal(bearer(token)).tenant_id == TENANT_ID


def test_forbidden_when_the_principal_lacks_every_required_role() -> None:
    principal = Principal(user_id="fan-17", tenant_id=TENANT_ID, roles=frozenset({Role.FAN}))

    with pytest.raises(ApiError) as raised:
        require_roles(principal, Role.VENUE_MANAGER, Role.ADMIN)

    assert raised.value.code is ErrorCode.FORBIDDEN
    assert require_roles(principal, Role.ADMIN, Role.FAN) is principal


def test_callers_differ_when_the_same_subject_comes_from_two_tenants() -> None:
    first = Principal(user_id="fan-17", tenant_id=TENANT_ID, roles=frozenset({Role.FAN}))
    second = Principal(user_id="fan-17", tenant_id=OTHER_TENANT_ID, roles=frozenset({Role.FAN}))

    assert first.caller != second.caller
    assert first.caller == f"{TENANT_ID}/fan-17"


def test_settings_error_when_no_key_is_configured_outside_production() -> None:
    with pytest.raises(SettingsError) as raised:
        TokenVerifier(Settings())
    assert "ONSALE_JWT_SECRET" in str(raised.value)


def test_settings_error_when_production_has_no_public_key() -> None:
    with pytest.raises(SettingsError) as raised:
        TokenVerifier(Settings(environment=Environment.PRODUCTION), jwt_secret=SECRET)
    assert "ONSALE_JWT_PUBLIC_KEY" in str(raised.value)


def test_settings_error_when_the_secret_is_short() -> None:
    with pytest.raises(SettingsError, match="too short"):
        TokenVerifier(Settings(jwt_secret="short"))


@pytest.mark.parametrize(
    "pem",
    [
        "not a pem",
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        public_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    ],
    ids=["garbage", "p256", "rsa1024"],
)
def test_settings_error_when_the_public_key_is_not_ed25519_or_a_strong_rsa_key(pem: str) -> None:
    with pytest.raises(SettingsError, match="ONSALE_JWT_PUBLIC_KEY"):
        TokenVerifier(Settings(environment=Environment.PRODUCTION, jwt_public_key=pem))


def test_signing_is_refused_when_no_secret_is_given() -> None:
    with pytest.raises(ValueError, match="no development secret"):
        sign_development_token(
            "", user_id="u", tenant_id=TENANT_ID, roles=[Role.FAN], ttl_s=60, now_s=0
        )


@pytest.mark.parametrize("ttl_s", [0, -1, TOKEN_TTL_S_MAX + 1])
def test_signing_is_refused_when_the_ttl_is_out_of_bounds(ttl_s: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        sign_development_token(
            SECRET, user_id="u", tenant_id=TENANT_ID, roles=[Role.FAN], ttl_s=ttl_s, now_s=0
        )


def clear_token_environment(monkeypatch: pytest.MonkeyPatch, data_dir: pathlib.Path) -> None:
    for variable in ("ONSALE_ENV", "ONSALE_JWT_SECRET", "ONSALE_JWT_PUBLIC_KEY", "STRIPE_API_BASE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ONSALE_DATA_DIR", str(data_dir))


def test_onsale_token_prints_a_verifiable_token_when_the_secret_is_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    clear_token_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("ONSALE_JWT_SECRET", SECRET)

    exit_code = main(["token", "--user", "manager-1", "--role", "venue_manager", "--role", "fan"])

    assert exit_code == 0
    principal = development_verifier().principal(bearer(capsys.readouterr().out.strip()))
    assert principal == Principal(
        user_id="manager-1",
        tenant_id=DEVELOPMENT_TENANT_ID,
        roles=frozenset({Role.VENUE_MANAGER, Role.FAN}),
    )


def test_onsale_token_uses_the_running_systems_secret_when_none_is_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    clear_token_environment(monkeypatch, tmp_path)
    write_runtime_file(
        tmp_path,
        Parts(
            gateway_url="http://127.0.0.1:8000",
            metrics_url="http://127.0.0.1:9100",
            database_url="postgresql://owner@127.0.0.1/onsale",
            database_service_url="postgresql://onsale_service@127.0.0.1/onsale",
            redis_url="redis://127.0.0.1:6379/0",
            ray_address="127.0.0.1:6380",
            stripe_api_base="http://127.0.0.1:8420",
            stripe_api_key="sk_test_onsale",
            stripe_webhook_secret="whsec_onsale",
            access_secret="a" * 48,
            jwt_secret=SECRET,
            embedded=[],
            smtp_url="smtp://127.0.0.1:2525",
            solana_rpc_url=None,
            solana_directory="/var/lib/onsale/solana",
            mint_authority_key="authority",
            custody_seed="c" * 64,
        ),
    )

    assert main(["token", "--tenant", str(OTHER_TENANT_ID), "--ttl", "120"]) == 0
    principal = development_verifier().principal(bearer(capsys.readouterr().out.strip()))
    assert (principal.user_id, principal.tenant_id) == ("developer", OTHER_TENANT_ID)
    assert principal.roles == {Role.FAN}


def test_onsale_token_is_refused_when_no_secret_can_be_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    clear_token_environment(monkeypatch, tmp_path)

    assert main(["token"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ONSALE_JWT_SECRET" in captured.err


def test_onsale_token_is_refused_when_the_environment_is_production(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
    ed25519_key: ed25519.Ed25519PrivateKey,
) -> None:
    clear_token_environment(monkeypatch, tmp_path)
    for variable, value in PRODUCTION_ENVIRONMENT.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("ONSALE_JWT_PUBLIC_KEY", public_pem(ed25519_key))

    assert main(["token"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "production" in captured.err
