"""Money as people read it, from integer minor units: `USD 1,234.50`, `JPY 5,000`.

Amounts are never floats: the minor units are split by integer division with the currency's
ISO 4217 exponent (two unless listed below). Add a currency here when it does not use two decimals.
"""

MINOR_UNIT_EXPONENTS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
DEFAULT_MINOR_UNIT_EXPONENT = 2


def format_amount(amount_cents: int, currency: str) -> str:
    """The amount with its currency code first, thousands grouped, e.g. `USD -12.05`."""
    exponent = MINOR_UNIT_EXPONENTS.get(currency, DEFAULT_MINOR_UNIT_EXPONENT)
    sign = "-" if amount_cents < 0 else ""
    whole, fraction = divmod(abs(amount_cents), 10**exponent)
    digits = f"{whole:,}"
    if exponent:
        digits += f".{fraction:0{exponent}d}"
    return f"{currency} {sign}{digits}"
