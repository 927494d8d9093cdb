#!/usr/bin/env bash
# `housecoder train` with the default model on a repository from PyPI that bench/repo_runs.sh prepares
# (click 8.5.1, jinja2 3.1.6, smolagents 1.26.0), with the forgetting check on 40 HumanEval-FIM Python tasks.
#
#   bash bench/train_repo.sh NAME [CONFIG] [-- more train options, e.g. --dry-run]
#
# CONFIG defaults to bench/configs/recipes/train-NAME.toml. A stopped run (samples written, no adapter metadata
# yet) resumes where it stopped. On 2 cores the recorded runs took 26 to 81 min of training plus the greedy
# evaluation before and after; give it the cores. The run directory (adapter, report.md, report.json, loss.png,
# samples, generations) is the adapter registry's ~/.cache/housecoder/adapters/NAME-*/RUN/ (the server
# picks adapters up there). When a document cites the run, its summary (report.json without the per-step
# history) is kept in git as bench/results/<run>/summary.json (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
HC=${HC:-.venv/bin/housecoder}
NAME=${1:?usage: bash bench/train_repo.sh NAME [CONFIG] [-- train options]}
shift
CONFIG=bench/configs/recipes/train-$NAME.toml
if [ $# -gt 0 ] && [ "$1" != "--" ]; then CONFIG=$1; shift; fi
[ "${1:-}" != "--" ] || shift
bash bench/repo_runs.sh prepare
FORGET=bench-results/tasks/humaneval-py.jsonl
[ -f "$FORGET" ] || "$HC" bench make-tasks ../shared/data/humaneval_fim_qwen/train.parquet -o "$FORGET"
options=(--forgetting "$FORGET")
[ -f "$CONFIG" ] && options+=(--config "$CONFIG")
for run in ~/.cache/housecoder/adapters/"$NAME"-*/*/; do  # an unfinished run goes on where it stopped
  if [ -f "$run/samples.jsonl" ] && [ ! -f "$run/housecoder-adapter.json" ] && [[ " $* " != *" --dry-run "* ]]; then
    options+=(--resume)
    break
  fi
done
"$HC" train "bench-results/repos/$NAME" "${options[@]}" "$@"
