"""What an InventoryActor's `submit` takes and answers on the wire: a msgpack list of commands in,
a msgpack list with one result per command out, far cheaper than pickling the Structs on both
sides. The actor and its client change together when this does."""

import msgspec

from engine.commands import Command
from engine.outcomes import Outcome
from engine.rejections import Rejected

Result = Outcome | Rejected
COMMANDS_ENCODER = msgspec.msgpack.Encoder()
COMMANDS_DECODER = msgspec.msgpack.Decoder(list[Command])
RESULTS_ENCODER = msgspec.msgpack.Encoder()
RESULTS_DECODER = msgspec.msgpack.Decoder(list[Result])
