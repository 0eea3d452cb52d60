#!/usr/bin/env bash
# `make test`: installs what is missing, builds with AddressSanitizer + UBSan, runs every test (unit and
# real-socket), builds what `make run` builds, then runs each fuzzer briefly. Exits non-zero on the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build test bench db

jobs=$(nproc)
echo "== configure and build (asan preset: AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake --preset asan
cmake --build --preset asan -j "$jobs"

echo "== tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ZEPHYR_LOG_LEVEL="${ZEPHYR_LOG_LEVEL:-warn}"
ctest --preset asan -j "$jobs"

# What `make run` builds: an optimized build with warnings as errors catches what the sanitizer build's -O0
# does not (GCC's -O3 flow warnings), so `make run` keeps working on a fresh machine.
echo "== release build (what make run builds)"
cmake --preset release -DBUILD_TESTING=OFF -DZEPHYR_BUILD_BENCH=OFF
cmake --build --preset release -j "$jobs"

if [ -x scripts/fuzz.sh ] && [ -f fuzz/CMakeLists.txt ]; then
  echo "== fuzzers (${FUZZ_SECONDS:-20} s each)"
  cmake --preset fuzz
  cmake --build --preset fuzz -j "$jobs"
  scripts/fuzz.sh build/fuzz "${FUZZ_SECONDS:-20}"
fi
