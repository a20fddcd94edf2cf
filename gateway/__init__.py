"""The HTTP shell: the FastAPI app, its routes, auth and settings. It is handed the parts it talks
to (gateway/parts.py) when the app is built, and never starts them: that is the runtime's
(onsale/runtime.py)."""
