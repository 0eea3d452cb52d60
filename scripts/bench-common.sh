# Shell functions shared by scripts/bench.sh and scripts/bench-db.sh (sourced, not run).

# A free TCP port on 127.0.0.1, chosen by the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The PID and its descendants (nginx workers), one per line.
pid_tree() {
  local pid="$1" child
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null || true); do
    pid_tree "$child"
  done
}

# utime+stime, in clock ticks, summed over a process tree. Field 2 (comm) may hold spaces: cut after ')'.
cpu_ticks() {
  local total=0 pid stat
  for pid in $(pid_tree "$1"); do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    read -ra f <<<"${stat##*) }"
    # after "comm) " the first word is field 3; utime and stime are fields 14 and 15
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# Builds TARGET... in Release with the benchmarks on and prints the build directory: build/bench through the `bench`
# preset, or BENCH_BUILD_DIR (relative to the repository root, or absolute) configured with the same settings,
# for a second build tree beside the preset's.
bench_build() {
  if [ -z "${BENCH_BUILD_DIR:-}" ]; then
    cmake --preset bench >&2
    cmake --build --preset bench --target "$@" >&2
    echo "$ROOT/build/bench"
    return
  fi
  local dir="$BENCH_BUILD_DIR"
  [[ "$dir" = /* ]] || dir="$ROOT/$dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DZEPHYR_BUILD_BENCH=ON >&2
  cmake --build "$dir" --target "$@" >&2
  echo "$dir"
}
