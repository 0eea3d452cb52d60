#!/usr/bin/env bash
# Installs this build of Zephyr into a temporary prefix, builds the hello example as an outside project with
# find_package(Zephyr), starts it on a free port and checks that it answers.
# usage: install_consumer_test.sh SOURCE_DIR BUILD_DIR [SANITIZE]
set -euo pipefail
src=$1 build=$2 sanitize=${3:-}
work=$(mktemp -d)
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null

mkdir -p "$work/app"
cp "$src/examples/01-hello/main.cpp" "$work/app/main.cpp"
cat > "$work/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
find_package(Zephyr REQUIRED)
add_executable(hello main.cpp)
target_link_libraries(hello PRIVATE Zephyr::zephyr)
CMAKE

flags=()
if [ -n "$sanitize" ]; then
  flags+=("-DCMAKE_CXX_FLAGS=-fsanitize=$sanitize" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$sanitize")
fi
cmake -S "$work/app" -B "$work/app/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" "${flags[@]}" >/dev/null
cmake --build "$work/app/build" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/app/build/hello" --port "$port" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  body=$(curl -s "http://127.0.0.1:$port/" || true)
  [ "$body" = "Hello, World!" ] && break
  sleep 0.1
done
if [ "$body" != "Hello, World!" ]; then
  echo "the installed hello example did not answer 'Hello, World!' (got '$body')"; cat "$work/log"; exit 1
fi
kill -TERM "$pid"
wait "$pid"
pid=""
echo "installed package works: find_package(Zephyr) + Zephyr::zephyr, hello answered, exited 0 on SIGTERM"
