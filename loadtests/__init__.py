"""Load scenarios (locust) and the benchmarks of DESIGN.md; figures are printed, never asserted."""
