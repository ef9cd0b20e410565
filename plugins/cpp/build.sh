#!/bin/sh
# Builds build/plugin.wasm from src/plugin.cc.
#
# Compiler: zig's bundled clang + wasi-libc/libc++ (PyPI package `ziglang`, pinned in plugin.toml; the
# runner installs it into its venv and sets $BENCH_PYTHON). To use your own clang / wasi-sdk instead,
# set WASI_CXX to its C++ compiler (it may hold extra words such as --sysroot=...), e.g.
#   WASI_CXX=/opt/wasi-sdk/bin/clang++ sh build.sh
#   WASI_CXX=clang++-14 sh build.sh   # Debian 12: apt-get install clang-14 lld-14 wasi-libc
#                                     #   libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32
# It gets the same flags, with --target=wasm32-wasi.
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
  PY="${BENCH_PYTHON:-python3}"
  if ! "$PY" -c "import ziglang" 2>/dev/null; then
    echo "build.sh: $PY has no ziglang module: run '$PY -m pip install ziglang==0.17.1', or set WASI_CXX" >&2
    exit 2
  fi
  CXX="$PY -m ziglang c++"
fi

# shellcheck disable=SC2086  # CXX may hold several words
$CXX --target=wasm32-wasi -mexec-model=reactor -O3 -std=c++17 -fno-exceptions -fno-rtti \
  -Wall -Wextra -Wl,--strip-all -o build/plugin.wasm src/plugin.cc
