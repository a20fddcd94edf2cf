"""The embedded runtime's parts: Postgres, Redis, the Stripe API, the SMTP sink, each a real server
in a child process of ours, watched and started again, with the data directory and runtime file
they share. It serves the layers below it and knows nothing of the `onsale` command above it."""
