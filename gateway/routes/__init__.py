"""The HTTP routes of API.md, one module per resource; each is thin: decode, call, translate."""
