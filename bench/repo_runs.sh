#!/usr/bin/env bash
# RepoEval-style completion benchmark on real repositories no one here wrote, their sources from PyPI's
# wheels (no git history, so no time split): click 8.5.1 and Jinja2 3.1.6, and smolagents 1.26.0 for the
# training runs (bench/train_repo.sh). 150 tasks per repository (50 line, 50 api, 50 function, seed 0) in
# the in-file, sparse-baseline and housecoder settings.
#
#   bash bench/repo_runs.sh prepare                  # repositories + task files under bench-results/
#   bash bench/repo_runs.sh run [click|jinja2 ...]   # the model runs, resumable
#   bash bench/repo_runs.sh adapter NAME RUN_DIR     # every setting with and without an adapter that
#       bench/train_repo.sh trained on NAME, on NAME-wide.jsonl (up to 40 tasks per file and kind);
#       `bench run --adapter` keeps only the tasks in files the adapter did not train on; LIMIT=150 draws
#       150 of those (seed 0); CONFIG=FILE adds `--config FILE`; RUNS=... picks the settings
#
# Records go to bench-results/runs/<repo>/ (ignored by git): results.jsonl gets one line per completion
# as it comes and `--resume` runs only what is missing, so a stopped run goes on where it stopped (one
# repository is about 1.5 h of model time on 2 cores). When a document cites a run, its summary is kept
# in git (docs/benchmarks.md):
#   mkdir -p bench/results/<run> && cp bench-results/runs/<run>/summary.json bench/results/<run>/
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/sources.sh
HC=${HC:-.venv/bin/housecoder}
WORK=bench-results
RUNS=${RUNS:-infile,sparse,housecoder}
# smolagents: first released after the default model's training data (code it cannot have memorised).
declare -A PINNED=([click]="click==8.5.1" [jinja2]="jinja2==3.1.6" [smolagents]="smolagents==1.26.0")

prepare() {
  mkdir -p "$WORK/repos" "$WORK/tasks" "$WORK/wheels"
  for name in "${!PINNED[@]}"; do
    if [ ! -d "$WORK/repos/$name" ]; then
      wheel_package "$WORK/repos/$name" "${PINNED[$name]}" "$name"
    fi
    [ -f "$WORK/tasks/$name.jsonl" ] || "$HC" bench make-tasks "$WORK/repos/$name" -o "$WORK/tasks/$name.jsonl" --count 50 --seed 0
    [ -f "$WORK/tasks/$name-wide.jsonl" ] || "$HC" bench make-tasks "$WORK/repos/$name" -o "$WORK/tasks/$name-wide.jsonl" \
      --count 400 --max-per-file 40 --seed 0
  done
}

adapter() {
  local name=${1:?usage: bash bench/repo_runs.sh adapter NAME RUN_DIR} run_dir=${2:?usage: bash bench/repo_runs.sh adapter NAME RUN_DIR}
  [ -f "$WORK/tasks/$name-wide.jsonl" ] || prepare
  local options=()
  [ -z "${LIMIT:-}" ] || options+=(--limit "$LIMIT" --seed 0)
  [ -z "${CONFIG:-}" ] || options+=(--config "$CONFIG")
  "$HC" bench run "$WORK/tasks/$name-wide.jsonl" --runs "$RUNS" --adapter "$run_dir" --out "$WORK/runs/$name-adapter" --resume "${options[@]}"
}

run() {
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(click jinja2)
  for name in "${names[@]}"; do
    [ -f "$WORK/tasks/$name.jsonl" ] || prepare
    "$HC" bench run "$WORK/tasks/$name.jsonl" --runs "$RUNS" --out "$WORK/runs/$name" --resume
  done
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  adapter) shift; adapter "$@" ;;
  *) echo "usage: bash bench/repo_runs.sh prepare | run [click|jinja2 ...] | adapter NAME RUN_DIR" >&2; exit 2 ;;
esac
