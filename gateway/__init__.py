"""The HTTP shell: the FastAPI app, auth, settings, the embedded runtime, the `onsale` command."""
