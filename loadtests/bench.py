"""`python -m loadtests.bench B5` runs one benchmark; `all` runs every one that is built.

Each benchmark module has `main() -> int` and prints, as its last line,
`<id> <figure>=<value> target=<target> ok|short`. The exit code is 0 when the figure meets its
target.
"""

import importlib
import sys

BENCHMARK_MODULES = {
    "B1": "loadtests.bench_pipeline",
    "B2": "loadtests.bench_http",
    "B3": "loadtests.bench_waiting_room",
    "B4": "loadtests.bench_rebuild",
    "B5": "loadtests.bench_best_available",
    "B6": "loadtests.bench_onsale",
    "HOLDS": "loadtests.bench_engine_holds",
}


def run(benchmark_id: str) -> int:
    module = importlib.import_module(BENCHMARK_MODULES[benchmark_id])
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
