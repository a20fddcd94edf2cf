"""What a refunded order asks of the chain: the `void.order` outbox message, written in the
transaction that refunds the order in full, after which a mint worker marks every NFT of the
order void (minting/voider.py). A field added here must be optional, since messages already
written lack it.
"""

import uuid

import msgspec

VOID_TOPIC = "void.order"


class VoidRequest(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    order_id: uuid.UUID


VOID_REQUEST_DECODER = msgspec.json.Decoder(VoidRequest)


def encode_void_request(request: VoidRequest) -> str:
    return msgspec.json.encode(request).decode()
