#!/usr/bin/env bash
# issue 6's real run: `housecoder train` with the default model on click 8.5.1 (from PyPI's wheel, as
# bench/repo_runs.sh prepares it), forgetting check on 40 HumanEval-FIM Python tasks.
#
#   bash bench/train_click.sh [CONFIG]     # default bench/configs/train-click.toml; resumes a stopped run
#
# On 2 cores a run is about 80 min of training plus about 40 min of greedy evaluation before and after
# (the base figures are reused by a later run with the same held-out samples and settings): start it
# first thing in a session and give it the cores. The run directory (adapter, report.md, loss.png) is
# under ~/.cache/housecoder/adapters/click-*/.
set -euo pipefail
cd "$(dirname "$0")/.."
HC=${HC:-.venv/bin/housecoder}
CONFIG=${1:-bench/configs/train-click.toml}
bash bench/repo_runs.sh prepare
FORGET=bench-results/tasks/humaneval-py.jsonl
[ -f "$FORGET" ] || "$HC" bench make-tasks ../shared/data/humaneval_fim_qwen/train.parquet -o "$FORGET"
resume=()  # an unfinished run (its samples written, no adapter metadata yet) goes on where it stopped
for run in ~/.cache/housecoder/adapters/click-*/*/; do
  if [ -f "$run/samples.jsonl" ] && [ ! -f "$run/housecoder-adapter.json" ]; then resume=(--resume); fi
done
"$HC" train bench-results/repos/click --config "$CONFIG" --forgetting "$FORGET" "${resume[@]}"
