#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS on a scratch corpus (new inputs are written
# there; the committed corpus and the shipped files it also reads stay untouched).
# Any finding fails the run and leaves its input in BUILD/fuzz-findings/: fix the
# bug, then add the input to fuzz/regressions/<target>/ (docs/robustness.md).
# Usage: fuzz/run.sh [BUILD=build-fuzz] [SECONDS=60] [PARALLEL=2]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-60}
parallel=${3:-2}
findings=$build/fuzz-findings
mkdir -p "$findings"

# Shipped files the target also starts from (read-only corpus directories).
declare -A shipped=(
  [config]="hw-configs workloads/kernels"
  [workload]="workloads tests/bad-inputs"
  [mask]="tests/fixtures/npz tests/bad-inputs/masks"
)
declare -A dict=([config]="-dict=fuzz/yaml.dict" [workload]="-dict=fuzz/yaml.dict" [mask]="")

run_target() {
  local t=$1 scratch=$build/fuzz-corpus/$1
  mkdir -p "$scratch"
  # shellcheck disable=SC2086  # the shipped folders are separate arguments
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -print_final_stats=1 ${dict[$t]} -artifact_prefix="$findings/$t-" \
    "$scratch" "fuzz/corpus/$t" ${shipped[$t]} >"$build/fuzz-$t.log" 2>&1
}

pids=() names=() failed=0
for t in config workload mask; do
  run_target "$t" &
  pids+=($!) names+=("$t")
  if ((${#pids[@]} >= parallel)); then
    wait "${pids[0]}" || { echo "fuzz: ${names[0]} FAILED"; failed=1; tail -n 40 "$build/fuzz-${names[0]}.log"; }
    pids=("${pids[@]:1}") names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "fuzz: ${names[$i]} FAILED"; failed=1; tail -n 40 "$build/fuzz-${names[$i]}.log"; }
done
for t in config workload mask; do
  echo "fuzz: $t: $(grep -E '^stat::number_of_executed_units' "$build/fuzz-$t.log" | awk '{print $2}') inputs in ${seconds} s," \
       "corpus $(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$build/fuzz-$t.log" | tail -1)"
done
if ((failed)); then
  echo "fuzz: findings in $findings:" && ls -1 "$findings"
  exit 1
fi
echo "fuzz: no findings"
