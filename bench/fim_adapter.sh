#!/usr/bin/env bash
# The fill-in-the-middle adapter shipped with the 0.5B model (note 0030): one LoRA run of the default plan
# on a mix of code no user owns and no benchmark uses, four Python packages from PyPI's wheels and two
# TypeScript packages from npm (their shipped src/, tests left out). Note 0029 found that the 0.5B's
# adapter learns the product's FIM prompt (use the suffix, stop), not the repository: this teaches it once.
#
#   bash bench/fim_adapter.sh prepare    # the mix under bench-results/repos/fim-mix (a minute)
#   bash bench/fim_adapter.sh train      # housecoder train on it with the 0.5B, 440k tokens (45 min on 2 cores)
#   bash bench/fim_adapter.sh export RUN # RUN (its adapter folder) -> housecoder/models/data/adapters/, fp16
# Twice the default run's 220k tokens taught the prompt better on every benchmark (note 0031).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/sources.sh
HC=${HC:-.venv/bin/housecoder}
WORK=bench-results
MIX=$WORK/repos/fim-mix
CONFIG=bench/configs/ablations/fast-model.toml
# name -> pip requirement and the import package inside its wheel
declare -A PYPI=([rich]="rich==13.9.4 rich" [httpx]="httpx==0.28.1 httpx" [attrs]="attrs==24.2.0 attr"
                 [requests]="requests==2.32.3 requests")
declare -A NPM=([query-core]="@tanstack/query-core@5.62.0" [trpc-server]="@trpc/server@11.0.0")

prepare() {
  mkdir -p "$MIX" "$WORK/wheels"
  for name in "${!PYPI[@]}"; do
    read -r requirement package <<<"${PYPI[$name]}"
    if [ ! -d "$MIX/$name" ]; then
      wheel_package "$MIX/$name" "$requirement" "$package"
    fi
  done
  for name in "${!NPM[@]}"; do
    if [ ! -d "$MIX/$name" ]; then
      npm_src "$MIX/$name" "${NPM[$name]}" \( -name '*.test.ts' -o -name '*.test-d.ts' \
        -o -name '__tests__' -o -name '*.spec.ts' \) -prune -exec rm -rf {} +
    fi
  done
}

case "${1:-}" in
  prepare) prepare ;;
  train) "$HC" train "$MIX" --config "$CONFIG" --token-budget 440000 ;;
  export) .venv/bin/python bench/export_fim_adapter.py "${2:?usage: bash bench/fim_adapter.sh export RUN}" ;;
  *) echo "usage: bash bench/fim_adapter.sh prepare | train | export RUN" >&2; exit 2 ;;
esac
