"""`onsale demo`: a whole simulated on-sale, driven over HTTP against a running system exactly as
fans and a venue use API.md, then checked against Postgres and Stripe and reported.

The package reaches the system only through what `runtime.json` names: the gateway's HTTP API,
the owner database URL and the Stripe API. Of the service's code it uses only the settings, the
runtime file and the signing of development tokens; the sale's scenario, facts and invariants are
the load tests' (loadtests/), so the demo and `onsale loadtest` judge a sale alike.
"""
