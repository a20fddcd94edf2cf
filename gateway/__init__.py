"""The HTTP shell: the FastAPI app, auth, settings, the embedded runtime and the `onsale` command."""
