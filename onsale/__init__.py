"""The processes and tools: the `onsale` command, the runtime that composes the embedded parts, Ray
and the gateway's app into one running system, and the demo. It sits above every other package;
nothing imports it but the tests."""
