#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` (the reference engine for `housecoder bench latency`) from the
# llama.cpp sources vendored in the llama-cpp-python sdist, CPU only, native ISA with AMX turned off
# (an AMX build crashed at the first evaluation on the build machines).
# Usage: scripts/build_llama_server.sh [OUT_DIR]   (default: ~/.cache/housecoder/llama.cpp)
set -euo pipefail
VERSION=0.3.36
OUT=${1:-$HOME/.cache/housecoder/llama.cpp}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK"
tar -xzf "$WORK/llama_cpp_python-$VERSION.tar.gz" -C "$WORK"
SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
cmake -S "$SRC" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_C_FLAGS="$NO_AMX" -DCMAKE_CXX_FLAGS="$NO_AMX" >/dev/null
cmake --build "$WORK/build" --target llama-server -j"$(nproc)"
mkdir -p "$OUT/bin"
cp "$WORK/build/bin/llama-server" "$OUT/bin/"
echo "$OUT/bin/llama-server"
