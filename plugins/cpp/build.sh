#!/bin/sh
# Builds build/plugin.wasm from src/plugin.cc.
#
# Compiler: zig's bundled clang + wasi-libc/libc++ (PyPI package `ziglang`, pinned in plugin.toml; the
# runner installs it into its venv and sets $BENCH_PYTHON). To use your own clang / wasi-sdk instead,
# set WASI_CXX to its C++ compiler, e.g.
#   WASI_CXX=/opt/wasi-sdk/bin/clang++ sh build.sh
#   WASI_CXX="clang++ --sysroot=/usr" sh build.sh    (Debian: clang lld wasi-libc libc++-dev-wasm32)
# It is called with --target=wasm32-wasi and the same flags.
set -eu
cd "$(dirname "$0")"
mkdir -p build

if [ -n "${WASI_CXX:-}" ]; then
  CXX="$WASI_CXX"
else
  # Keep zig's cache (its compiled libc, ~20-50 s on first use) in the project cache when there is one.
  if [ -n "${BENCH_CACHE:-}" ]; then
    export ZIG_GLOBAL_CACHE_DIR="$BENCH_CACHE/zig"
  fi
  CXX="${BENCH_PYTHON:-python3} -m ziglang c++"
fi

# shellcheck disable=SC2086  # CXX may hold several words
$CXX --target=wasm32-wasi -mexec-model=reactor -O3 -std=c++17 -fno-exceptions -fno-rtti \
  -Wall -Wextra -Wl,--strip-all -o build/plugin.wasm src/plugin.cc
