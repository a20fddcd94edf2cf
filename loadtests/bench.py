"""`python -m loadtests.bench B5` runs one benchmark; `all` runs every one that is built.

Each benchmark module has `main() -> int` and prints, as its last line,
`<id> <figure>=<value> target=<target> ok|short`. The exit code is 0 when the figure meets its
target. A benchmark whose machinery does not exist yet says so and exits 2: it never prints a figure
it did not measure.
"""

import importlib
import sys

BENCHMARK_MODULES = {
    "B1": "loadtests.bench_pipeline",
    "B2": "loadtests.bench_http",
    "B3": "loadtests.bench_waiting_room",
    "B4": "loadtests.bench_rebuild",
    "B5": "loadtests.bench_best_available",
    "B6": None,
    "HOLDS": "loadtests.bench_engine_holds",
}
NOT_BUILT_EXIT_CODE = 2


def run(benchmark_id: str) -> int:
    module_name = BENCHMARK_MODULES[benchmark_id]
    if module_name is None:
        print(f"{benchmark_id} not built yet: its pipeline is not part of this release")
        return NOT_BUILT_EXIT_CODE
    module = importlib.import_module(module_name)
    return int(module.main())


def main(arguments: list[str]) -> int:
    requested = [argument.upper() for argument in arguments] or ["ALL"]
    if requested == ["ALL"]:
        requested = list(BENCHMARK_MODULES)
    unknown = [name for name in requested if name not in BENCHMARK_MODULES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARK_MODULES)}")
        return 64
    return max(run(name) for name in requested)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
