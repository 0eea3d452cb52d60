#!/usr/bin/env bash
# Installs the Debian 12 packages Zephyr needs to build, test and benchmark.
# Idempotent: only packages that are missing are installed. Run as root (or with sudo available).
set -euo pipefail

groups="${*:-build}"
pkgs=()
for g in $groups; do
  case "$g" in
    build) pkgs+=(build-essential cmake ninja-build pkg-config
                  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
                  libssl-dev zlib1g-dev libbrotli-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
                  libbackward-cpp-dev libdw-dev libsqlite3-dev libpq-dev libmariadb-dev) ;;
    test)  pkgs+=(libgtest-dev libgmock-dev clang libclang-rt-14-dev curl openssl procps python3) ;;
    format) pkgs+=(clang-format) ;;
    bench) pkgs+=(libbenchmark-dev wrk nginx-light util-linux procps python3) ;;
    # db: servers + clients for scripts/services/*.sh (the client libraries are in `build`)
    db)    pkgs+=(postgresql-15 postgresql-client mariadb-server mariadb-client sqlite3 util-linux procps python3) ;;
    *) echo "install-deps: unknown group '$g' (build, test, bench, format, db)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
