#!/usr/bin/env bash
# Repositories the default model cannot have seen (first released in 2025 or later; Qwen2.5-Coder's data
# ends in 2024), for the context benchmark: four pure-Python packages from PyPI's wheels (a2a-sdk, the keep
# gate's fifth repository, without its generated protobuf modules) and one
# TypeScript package from npm (its shipped src/, tests left out). click and Jinja2 (bench/repo_runs.sh)
# stay the seen-code control.
#
#   bash bench/unseen_repos.sh prepare     # sources + task files under bench-results/ (a minute)
#
# Tasks: 50 line, 50 api and 50 function per repository, seed 0 (`housecoder bench make-tasks`). The model
# and recall runs on them (docs/benchmarks.md) write to bench-results/runs/<run>/ (ignored by git); a cited
# run's summary is kept in git:
#   mkdir -p bench/results/<run> && cp bench-results/runs/<run>/summary.json bench/results/<run>/
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/sources.sh
HC=${HC:-.venv/bin/housecoder}
WORK=bench-results
# name -> pip requirement and the import package inside its wheel
declare -A PYPI=([openai-agents]="openai-agents==0.24.0 agents" [strands]="strands-agents==1.62.0 strands"
                 [langextract]="langextract==1.7.1 langextract" [a2a]="a2a-sdk==1.3.0 a2a")
declare -A NPM=([tanstack-ai]="@tanstack/ai@0.58.0")

prepare() {
  mkdir -p "$WORK/repos" "$WORK/tasks" "$WORK/wheels"
  for name in "${!PYPI[@]}"; do
    read -r requirement package <<<"${PYPI[$name]}"
    # generated protobuf code: nobody types it
    if [ ! -d "$WORK/repos/$name" ]; then
      wheel_package "$WORK/repos/$name" "$requirement" "$package" -name '*_pb2*' -delete
    fi
  done
  for name in "${!NPM[@]}"; do
    if [ ! -d "$WORK/repos/$name" ]; then
      npm_src "$WORK/repos/$name" "${NPM[$name]}" -name '*.test.ts' -delete
    fi
  done
  for name in "${!PYPI[@]}" "${!NPM[@]}"; do
    [ -f "$WORK/tasks/$name.jsonl" ] || "$HC" bench make-tasks "$WORK/repos/$name" -o "$WORK/tasks/$name.jsonl" --count 50 --seed 0
  done
}

case "${1:-}" in
  prepare) prepare ;;
  *) echo "usage: bash bench/unseen_repos.sh prepare" >&2; exit 2 ;;
esac
