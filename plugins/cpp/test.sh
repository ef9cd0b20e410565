#!/bin/sh
# Host-side unit tests of the pure parts (src/json.h, src/config.h), compiled with the system g++
# (CXX to override) under AddressSanitizer and UBSan.
set -eu
cd "$(dirname "$0")"
mkdir -p build
${CXX:-g++} -std=c++17 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
  -o build/unit tests/unit.cc
./build/unit
