"""Token-2022 wire formats that solders and spl-token lack: the metadata pointer and token metadata
instructions, and the mint, token account and metadata layouts as the chain stores them.

The layouts are those of the spl-token-2022 program and the spl-token-metadata-interface; the
tests that mint on LiteSVM's copy of the program check both directions against the real thing.
"""

import enum
import hashlib
import struct

import msgspec
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from spl.token.constants import TOKEN_2022_PROGRAM_ID

MINT_BASE_BYTES = 82
# Extensions start where a token account's base layout ends, after one account-type byte, so a
# mint with extensions can never be mistaken for a token account.
EXTENSIONS_OFFSET = 165 + 1
EXTENSION_HEADER_BYTES = 4
METADATA_POINTER_BYTES = 64
MINT_WITH_METADATA_POINTER_BYTES = (
    EXTENSIONS_OFFSET + EXTENSION_HEADER_BYTES + METADATA_POINTER_BYTES
)
TOKEN_ACCOUNT_BASE_BYTES = 165

METADATA_POINTER_INSTRUCTION = 39
METADATA_POINTER_INITIALIZE = 0
INITIALIZE_METADATA_DISCRIMINATOR = hashlib.sha256(
    b"spl_token_metadata_interface:initialize_account"
).digest()[:8]
UPDATE_METADATA_FIELD_DISCRIMINATOR = hashlib.sha256(
    b"spl_token_metadata_interface:updating_field"
).digest()[:8]
METADATA_FIELD_KEY = 3
NO_ADDRESS = bytes(32)


class ExtensionType(enum.IntEnum):
    UNINITIALIZED = 0
    METADATA_POINTER = 18
    TOKEN_METADATA = 19


class TokenMetadata(msgspec.Struct, frozen=True, kw_only=True):
    update_authority: str | None
    mint: str
    name: str
    symbol: str
    uri: str
    additional_metadata: tuple[tuple[str, str], ...] = ()


class MintState(msgspec.Struct, frozen=True, kw_only=True):
    mint_authority: str | None
    supply: int
    decimals: int
    is_initialized: bool
    freeze_authority: str | None
    metadata_pointer: str | None
    metadata: TokenMetadata | None


class TokenAccountState(msgspec.Struct, frozen=True, kw_only=True):
    mint: str
    owner: str
    amount: int


def borsh_string(text: str) -> bytes:
    encoded = text.encode()
    return struct.pack("<I", len(encoded)) + encoded


def _optional_address(address: Pubkey | None) -> bytes:
    """An OptionalNonZeroPubkey: all zeroes stands for None."""
    return NO_ADDRESS if address is None else bytes(address)


def pack_token_metadata(metadata: TokenMetadata) -> bytes:
    """The TokenMetadata extension's value, as the program stores it (borsh)."""
    authority = (
        None if metadata.update_authority is None else Pubkey.from_string(metadata.update_authority)
    )
    pairs = b"".join(
        borsh_string(key) + borsh_string(value) for key, value in metadata.additional_metadata
    )
    return (
        _optional_address(authority)
        + bytes(Pubkey.from_string(metadata.mint))
        + borsh_string(metadata.name)
        + borsh_string(metadata.symbol)
        + borsh_string(metadata.uri)
        + struct.pack("<I", len(metadata.additional_metadata))
        + pairs
    )


def metadata_extension_bytes(metadata: TokenMetadata) -> int:
    """What the TokenMetadata extension adds to its mint account, header included."""
    return EXTENSION_HEADER_BYTES + len(pack_token_metadata(metadata))


def initialize_metadata_pointer(
    *, mint: Pubkey, authority: Pubkey, metadata_address: Pubkey
) -> Instruction:
    """Point the mint's metadata at `metadata_address`; must come before InitializeMint."""
    data = (
        bytes([METADATA_POINTER_INSTRUCTION, METADATA_POINTER_INITIALIZE])
        + bytes(authority)
        + bytes(metadata_address)
    )
    return Instruction(
        TOKEN_2022_PROGRAM_ID, data, [AccountMeta(mint, is_signer=False, is_writable=True)]
    )


def initialize_token_metadata(
    *,
    mint: Pubkey,
    update_authority: Pubkey,
    mint_authority: Pubkey,
    name: str,
    symbol: str,
    uri: str,
) -> Instruction:
    """Store name, symbol and uri in the mint itself; the mint authority signs."""
    data = (
        INITIALIZE_METADATA_DISCRIMINATOR
        + borsh_string(name)
        + borsh_string(symbol)
        + borsh_string(uri)
    )
    return Instruction(
        TOKEN_2022_PROGRAM_ID,
        data,
        [
            AccountMeta(mint, is_signer=False, is_writable=True),
            AccountMeta(update_authority, is_signer=False, is_writable=False),
            AccountMeta(mint, is_signer=False, is_writable=False),
            AccountMeta(mint_authority, is_signer=True, is_writable=False),
        ],
    )


def update_token_metadata_field(
    *, mint: Pubkey, update_authority: Pubkey, key: str, value: str
) -> Instruction:
    """Add or change one additional field (a key of its own, not name, symbol or uri)."""
    data = (
        UPDATE_METADATA_FIELD_DISCRIMINATOR
        + bytes([METADATA_FIELD_KEY])
        + borsh_string(key)
        + borsh_string(value)
    )
    return Instruction(
        TOKEN_2022_PROGRAM_ID,
        data,
        [
            AccountMeta(mint, is_signer=False, is_writable=True),
            AccountMeta(update_authority, is_signer=True, is_writable=False),
        ],
    )


class _Reader:
    """Reads borsh values off the front of a buffer."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def take(self, size: int) -> bytes:
        end = self._offset + size
        if end > len(self._data):
            raise ValueError("token metadata ends early")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def u32(self) -> int:
        (value,) = struct.unpack("<I", self.take(4))
        return int(value)

    def string(self) -> str:
        return self.take(self.u32()).decode()

    def optional_address(self) -> str | None:
        raw = self.take(32)
        return None if raw == NO_ADDRESS else str(Pubkey.from_bytes(raw))


def unpack_token_metadata(data: bytes) -> TokenMetadata:
    reader = _Reader(data)
    update_authority = reader.optional_address()
    mint = str(Pubkey.from_bytes(reader.take(32)))
    name, symbol, uri = reader.string(), reader.string(), reader.string()
    pairs = tuple((reader.string(), reader.string()) for _ in range(reader.u32()))
    return TokenMetadata(
        update_authority=update_authority,
        mint=mint,
        name=name,
        symbol=symbol,
        uri=uri,
        additional_metadata=pairs,
    )


def _coption_address(data: bytes) -> str | None:
    """A COption<Pubkey>: a four-byte tag, then the address."""
    (tag,) = struct.unpack("<I", data[:4])
    return str(Pubkey.from_bytes(data[4:36])) if tag else None


def _extensions(data: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    offset = EXTENSIONS_OFFSET
    while offset + EXTENSION_HEADER_BYTES <= len(data):
        kind, length = struct.unpack("<HH", data[offset : offset + EXTENSION_HEADER_BYTES])
        if kind == ExtensionType.UNINITIALIZED:
            break
        start = offset + EXTENSION_HEADER_BYTES
        found[kind] = data[start : start + length]
        offset = start + length
    return found


def unpack_mint(data: bytes) -> MintState:
    """A Token-2022 (or SPL Token) mint with whatever extensions it carries."""
    if len(data) < MINT_BASE_BYTES:
        raise ValueError(f"a mint is at least {MINT_BASE_BYTES} bytes, not {len(data)}")
    (supply,) = struct.unpack("<Q", data[36:44])
    extensions = _extensions(data)
    pointer = extensions.get(ExtensionType.METADATA_POINTER)
    metadata = extensions.get(ExtensionType.TOKEN_METADATA)
    return MintState(
        mint_authority=_coption_address(data[0:36]),
        supply=supply,
        decimals=data[44],
        is_initialized=bool(data[45]),
        freeze_authority=_coption_address(data[46:82]),
        metadata_pointer=None
        if pointer is None or pointer[32:64] == NO_ADDRESS
        else str(Pubkey.from_bytes(pointer[32:64])),
        metadata=None if metadata is None else unpack_token_metadata(metadata),
    )


def unpack_token_account(data: bytes) -> TokenAccountState:
    if len(data) < TOKEN_ACCOUNT_BASE_BYTES:
        raise ValueError(
            f"a token account is at least {TOKEN_ACCOUNT_BASE_BYTES} bytes, not {len(data)}"
        )
    (amount,) = struct.unpack("<Q", data[64:72])
    return TokenAccountState(
        mint=str(Pubkey.from_bytes(data[0:32])),
        owner=str(Pubkey.from_bytes(data[32:64])),
        amount=amount,
    )
