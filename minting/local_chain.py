"""The embedded chain: LiteSVM (the Solana runtime with the real Token-2022 and associated token
account programs) in this process, its accounts kept in a journal under a directory.

One LocalChain owns its directory: the cluster runs it inside one named Ray actor and every mint
worker reaches it there (`actors.solana_chain`). It is a faucet too: a fee payer running low is
topped up before its transaction, as a local validator's airdrop would. Methods are async for the
`ChainBackend` interface but never await, so calls run one after another, whole.
"""

import pathlib
from collections.abc import Sequence

from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from engine import limits
from minting.account_journal import AccountJournal, ChainState, JournalRecord, StoredAccount
from minting.chain import ChainError, SentTransaction
from minting.float_unit import clear_float_unit

SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")


def _stored(address: Pubkey, account: Account | None) -> StoredAccount:
    if account is None:
        return StoredAccount(
            address=str(address),
            lamports=0,
            data=b"",
            owner=str(Pubkey.default()),
            executable=False,
            rent_epoch=0,
        )
    return StoredAccount(
        address=str(address),
        lamports=account.lamports,
        data=bytes(account.data),
        owner=str(account.owner),
        executable=account.executable,
        rent_epoch=account.rent_epoch,
    )


def _account(stored: StoredAccount) -> Account:
    return Account(
        lamports=stored.lamports,
        data=stored.data,
        owner=Pubkey.from_string(stored.owner),
        executable=stored.executable,
        rent_epoch=stored.rent_epoch,
    )


def refusal_reason(result: FailedTransactionMetadata) -> str:
    """The runtime's error, and the last line the programs logged, which usually says why."""
    logs = result.meta().logs()
    return f"{result.err()}: {logs[-1]}" if logs else str(result.err())


class LocalChain:
    def __init__(self, directory: str) -> None:
        self._journal = AccountJournal(pathlib.Path(directory))
        self._machine: LiteSVM | None = None
        self._state = ChainState(accounts={}, creations={})

    def _loaded(self) -> LiteSVM:
        """The machine with every journalled account restored, loaded on first use."""
        if self._machine is None:
            self._state = self._journal.load()
            machine = LiteSVM()
            for stored in self._state.accounts.values():
                machine.set_account(Pubkey.from_string(stored.address), _account(stored))
            self._machine = machine
        return self._machine

    async def latest_blockhash(self) -> Hash:
        return self._loaded().latest_blockhash()

    async def rent(self) -> Rent:
        return self._loaded().get_rent()

    async def get_accounts(self, addresses: Sequence[Pubkey]) -> list[Account | None]:
        machine = self._loaded()
        accounts = [machine.get_account(address) for address in addresses]
        return [account if account and account.lamports else None for account in accounts]

    async def program_accounts(self, program_id: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Every account the program owns: what a census of the local chain counts."""
        return list(self._loaded().get_program_accounts(program_id))

    async def creation_signatures(self, addresses: Sequence[Pubkey]) -> list[str | None]:
        self._loaded()
        return [self._state.creations.get(str(address)) for address in addresses]

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        """Run each transaction, then journal every account they touched in one record."""
        assert len(transactions) <= limits.MINTS_PER_CHAIN_BATCH_MAX
        machine = self._loaded()
        try:
            return self._send(machine, transactions)
        finally:
            clear_float_unit()

    def _send(self, machine: LiteSVM, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        touched: dict[Pubkey, None] = {}
        creations: dict[str, str] = {}
        sent = []
        for transaction in transactions:
            payer = transaction.message.account_keys[0]
            if (machine.get_balance(payer) or 0) < limits.LOCAL_CHAIN_PAYER_LAMPORTS_MIN:
                machine.airdrop(payer, limits.LOCAL_CHAIN_AIRDROP_LAMPORTS)
            keys = list(transaction.message.account_keys)
            absent = {key for key in keys if not machine.get_account(key)}
            result = machine.send_transaction(transaction)
            signature = str(transaction.signatures[0])
            if isinstance(result, FailedTransactionMetadata):
                sent.append(SentTransaction(signature=signature, error=refusal_reason(result)))
            else:
                sent.append(SentTransaction(signature=signature))
                for key in absent:
                    if machine.get_account(key):
                        creations[str(key)] = signature
            touched.update(dict.fromkeys(keys))
        self._persist(machine, touched, creations)
        return sent

    def _persist(
        self, machine: LiteSVM, touched: dict[Pubkey, None], creations: dict[str, str]
    ) -> None:
        accounts = []
        for address in touched:
            account = machine.get_account(address)
            if account is not None and (account.executable or account.owner == SYSVAR_OWNER):
                continue
            accounts.append(_stored(address, account))
        record = JournalRecord(accounts=accounts, creations=creations)
        try:
            self._journal.append(record)
            self._state.apply(record)
            if self._journal.needs_compaction():
                self._journal.compact(self._state)
        except OSError as error:
            # What ran is not on disk: forget it, so the chain never answers from unsaved state.
            self._machine = None
            raise ChainError(f"the local chain could not save its accounts: {error!r}") from error
