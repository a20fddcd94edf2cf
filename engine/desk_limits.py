"""The limits of the service desk and of a fan's order listing, named as engine/limits.py names
the rest (which is full): a page of orders, the text a search takes, the tenants one listing
visits, an order's history."""

ORDERS_LISTED_DEFAULT = 20
ORDERS_LISTED_MAX = 100
ORDER_SEARCH_CHARACTERS_MAX = 320
TENANTS_PER_ORDER_LISTING_MAX = 100
CONTACT_NAME_CHARACTERS_MAX = 200
# An order's history is its few tickets' lives; a page of it is never needed.
ORDER_HISTORY_ENTRIES_MAX = 2_000

assert ORDERS_LISTED_DEFAULT <= ORDERS_LISTED_MAX
assert ORDER_SEARCH_CHARACTERS_MAX >= 320, "a whole email address can be searched for"
