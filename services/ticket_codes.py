"""A ticket's codes signed and verified: Ed25519 over the message engine/ticket_qr.py defines.

The service signs with the ticket's seed for `GET /v1/tickets/{id}/qr`; the owner's app signs
the same way with the seed it was given (`/code-key`), offline. A gate, a scanner device or the
scan manifest holds only public keys, with which nothing can be signed. Verification never raises:
a signature that does not verify is a verdict (forged), not an error.
"""

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.ticket_qr import QrPayload, QrVerdict, encode_payload, judge_code, signed_message


def sign_code(*, seed: bytes, ticket_id: str, step: int) -> str:
    """The payload the ticket's owner shows during `step`."""
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(
        signed_message(ticket_id=ticket_id, step=step)
    )
    return encode_payload(ticket_id=ticket_id, step=step, signature=signature)


def signature_verifies(*, public_key: bytes, payload: QrPayload) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            payload.signature, payload.signed_message
        )
    except InvalidSignature:
        return False
    return True


def verify_code(*, public_key: bytes, payload: QrPayload, now_ms: int) -> QrVerdict:
    """GENUINE when the ticket's key signed the payload and its step is within the skew of
    `now_ms` (the server's clock for a live scan, the gate's moment of scanning for an upload)."""
    return judge_code(
        signature_verifies=signature_verifies(public_key=public_key, payload=payload),
        step=payload.step,
        now_ms=now_ms,
    )
