"""A ticket type's own sale window, inside the event's: the checks it must pass and whether a time
falls in it. A bound left out is the event's own (`on_sale_from_ms` None opens with the event)."""


def sale_window_problems(
    on_sale_from_ms: int | None,
    on_sale_until_ms: int | None,
    opens_at_ms: int,
    closes_at_ms: int,
) -> dict[str, str]:
    """What is wrong with a type's window, by the field at fault."""
    problems: dict[str, str] = {}
    if on_sale_from_ms is not None and not opens_at_ms <= on_sale_from_ms < closes_at_ms:
        problems["on_sale_from"] = "on_sale_from must be inside the event's sale window"
    if on_sale_until_ms is not None and not opens_at_ms < on_sale_until_ms <= closes_at_ms:
        problems["on_sale_until"] = "on_sale_until must be inside the event's sale window"
    if (
        on_sale_from_ms is not None
        and on_sale_until_ms is not None
        and on_sale_from_ms >= on_sale_until_ms
    ):
        problems["on_sale_until"] = "on_sale_until must be after on_sale_from"
    return problems


def is_within_window(
    on_sale_from_ms: int | None, on_sale_until_ms: int | None, now_ms: int
) -> bool:
    """Whether `now_ms` is inside the type's own bounds (the event's are checked apart)."""
    return (on_sale_from_ms is None or on_sale_from_ms <= now_ms) and (
        on_sale_until_ms is None or now_ms < on_sale_until_ms
    )
