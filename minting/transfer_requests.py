"""What a transfer asks of the chain: the `transfer.ticket` outbox message, one per transfer.

It is written in the transaction that gives the ticket, under the aggregate of the NFT's first
ticket, the aggregate its mint was written under: the NFT is minted before it moves, and its moves
happen in the order they were made. A field added here must be optional, since messages already
written lack it.
"""

import uuid

import msgspec

TRANSFER_TOPIC = "transfer.ticket"


class TransferRequest(msgspec.Struct, frozen=True, kw_only=True):
    transfer_id: uuid.UUID
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    nft_ticket_id: uuid.UUID


TRANSFER_REQUEST_DECODER = msgspec.json.Decoder(TransferRequest)
