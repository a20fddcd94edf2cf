"""Refunds as Stripe makes them, where localstripe differs: a refund without an amount returns
what is left of the charge (not the whole charge again), one for more than is left is refused,
refunds are listed newest first (those of the same second too), and each refund sends
`charge.refunded`, whose object is the Charge as it stands after it (`amount_refunded`,
`refunded`, `payment_intent` and its `refunds`)."""

from typing import Any

from localstripe import resources
from localstripe.errors import UserError
from localstripe.webhooks import schedule_webhook


def refunded_charge(charge: object, payment_intent: object) -> resources.Charge | None:
    """The charge a refund's parameters name; None when they name none (localstripe says why)."""
    if isinstance(payment_intent, str):
        intent = resources.PaymentIntent._api_retrieve(payment_intent)
        latest: resources.Charge | None = intent.latest_charge
        return latest
    if isinstance(charge, str):
        found: resources.Charge = resources.Charge._api_retrieve(charge)
        return found
    return None


def send_charge_refunded_events() -> None:
    create_refund = resources.Refund._api_create.__func__

    def created(cls: type[resources.Refund], /, **data: object) -> resources.Refund:
        charge = refunded_charge(data.get("charge"), data.get("payment_intent"))
        if charge is not None:
            left = charge.amount - charge.amount_refunded
            amount = resources.try_convert_to_int(data.get("amount"))
            if amount is None:
                data["amount"] = amount = left
            if isinstance(amount, int) and amount > left:
                raise UserError(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({left})",
                    {"code": "charge_already_refunded" if left == 0 else "amount_too_large"},
                )
        refund = create_refund(cls, **data)
        schedule_webhook(
            resources.Event("charge.refunded", resources.Charge._api_retrieve(refund.charge))
        )
        return refund

    resources.Refund._api_create = classmethod(created)
    list_refunds = resources.Refund._api_list_all.__func__

    def newest_first(cls: type[resources.Refund], /, *arguments: Any, **data: Any) -> Any:
        listed = list_refunds(cls, *arguments, **data)
        # localstripe sorts by the second only, oldest first within it
        listed._list = sorted(listed._list[::-1], key=lambda refund: refund.date, reverse=True)
        return listed

    resources.Refund._api_list_all = classmethod(newest_first)
