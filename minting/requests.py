"""What the payment flow asks of minting: the `mint.ticket` outbox message, one per issued ticket.

The payload is written in the transaction that issues the ticket, so it carries everything the NFT
shows; a field added here must be optional, since messages already written lack it.
"""

import uuid

import msgspec

MINT_TOPIC = "mint.ticket"


class MintRequest(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    order_id: uuid.UUID
    owner_user_id: str
    event_name: str
    ticket_type_name: str
    seat: str | None = None


MINT_REQUEST_DECODER = msgspec.json.Decoder(MintRequest)
