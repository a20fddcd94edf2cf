"""The use cases of the on-sale: what a venue or a fan asks for, done on the engine, Postgres and
the outside world, callable alike from HTTP routes and from actors.

A service takes typed inputs and returns values or raises its domain errors; it imports neither
FastAPI nor the gateway, which decodes, calls and translates.
"""
