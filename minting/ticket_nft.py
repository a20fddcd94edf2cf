"""What a ticket's NFT says: its name, symbol, uri and the fields that name the event, ticket type,
seat and ticket, each cut to its byte budget so the minting transaction always fits.

The uri is the ticket's own URN: it names the ticket without promising a document behind it.
"""

import msgspec
from solders.pubkey import Pubkey

from engine import limits
from minting.requests import MintRequest
from minting.token_2022 import TokenMetadata

NFT_SYMBOL = "TICKET"
NAME_SEPARATOR = " · "


class TicketNftDescription(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    symbol: str
    uri: str
    fields: tuple[tuple[str, str], ...]

    def metadata(self, *, mint: Pubkey, update_authority: Pubkey) -> TokenMetadata:
        return TokenMetadata(
            update_authority=str(update_authority),
            mint=str(mint),
            name=self.name,
            symbol=self.symbol,
            uri=self.uri,
            additional_metadata=self.fields,
        )


def cut_to_bytes(text: str, bytes_max: int) -> str:
    """The longest prefix of `text` whose UTF-8 fits `bytes_max`, never splitting a character."""
    return text.encode()[:bytes_max].decode(errors="ignore")


def describe_ticket(request: MintRequest) -> TicketNftDescription:
    place = request.seat if request.seat is not None else request.ticket_type_name
    fields = [
        ("event", cut_to_bytes(request.event_name, limits.NFT_EVENT_BYTES_MAX)),
        ("ticket_type", cut_to_bytes(request.ticket_type_name, limits.NFT_TICKET_TYPE_BYTES_MAX)),
    ]
    if request.seat is not None:
        fields.append(("seat", cut_to_bytes(request.seat, limits.NFT_SEAT_BYTES_MAX)))
    fields.append(("ticket", str(request.ticket_id)))
    return TicketNftDescription(
        name=cut_to_bytes(request.event_name + NAME_SEPARATOR + place, limits.NFT_NAME_BYTES_MAX),
        symbol=NFT_SYMBOL,
        uri=request.ticket_id.urn,
        fields=tuple(fields),
    )
