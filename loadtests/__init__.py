"""Load scenarios (locust), the benchmarks of DESIGN.md, and the sale model `onsale demo` shares
(scenario, facts, invariants); figures are printed, never asserted. Only the `onsale` command
and the tests import it."""
