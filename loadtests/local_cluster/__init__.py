"""A cluster on one machine, as an operator would run one on several: a Ray head and a second Ray
node in a network namespace of its own (its own address: no part may assume 127.0.0.1), gateways
attached to the head, HAProxy in front of them, and the machine's Postgres and Redis, the Stripe
server and the SMTP sink reached by addresses every node can reach. The cluster test and the
balancer benchmark (B7) run on it."""
