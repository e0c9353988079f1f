# Thin wrapper over CMake presets and the test scripts. Every target installs what it needs.
.PHONY: deps build debug asan run test unit golden e2e bench format clean

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug

asan: deps
	@cmake --preset asan-ubsan >/dev/null
	@cmake --build --preset asan-ubsan
	@ctest --preset asan-ubsan

# Local ClickHouse under .data/, example tables and pipelines, sluice in the foreground.
run: build
	@scripts/run-local

unit: build
	@ctest --preset release

golden: build
	@tests/golden/run

e2e: build
	@tests/e2e/run

test: build
	@scripts/test-all

bench: build
	@build/release/sluice_bench --benchmark_min_time=1
	@/usr/bin/python3 bench/e2e_bench.py

format:
	@clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tools/*.cc' 'tools/*.h' 'bench/*.cc')

clean:
	@rm -rf build
