# Thin wrapper over CMake presets. Every target installs the Debian packages it needs first.
.PHONY: all build run test bench fuzz format clean

EXAMPLE ?= hello
PORT ?= 8080
FUZZ_SECONDS ?= 20

all: build

build:
	@scripts/install-deps.sh build test bench db
	cmake --preset release
	cmake --build --preset release

run:
	@scripts/install-deps.sh build
	cmake --preset release -DBUILD_TESTING=OFF -DZEPHYR_BUILD_BENCH=OFF
	cmake --build --preset release --target $(EXAMPLE)
	PORT=$(PORT) ./build/release/examples/$(EXAMPLE)

test:
	@scripts/test.sh

bench:
	@scripts/bench.sh
	@scripts/bench-db.sh

fuzz:
	@scripts/install-deps.sh build test
	cmake --preset fuzz
	cmake --build --preset fuzz
	scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

format:
	@scripts/install-deps.sh format
	find include src tests examples bench fuzz -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
