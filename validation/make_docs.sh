#!/usr/bin/env bash
# Regenerates the tables and scatter plots of docs/validation.md from the committed
# measurements: `make validation-docs`. H100 (calibrated) and H200 (predicted from its
# config alone, never fitted). Needs gnuplot (Debian: gnuplot-nox) for the PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ATTNSIM:-build/attnsim}
out=docs/validation
mkdir -p "$out"

# $1: data folder, $2: file prefix in docs/validation, $3: GPU label for the plot
one() {
  local data=$1 prefix=$2 gpu=$3
  "$bin" validate --no-gate -q --csv "$out/${prefix}cases.csv" --markdown "$out/${prefix}summary.md" "$data" \
    > "$out/${prefix}report.txt" || true
  python3 validation/dram_tables.py "$data" "$out/${prefix}cases.csv" > "$out/${prefix}dram.md"
  if ! command -v gnuplot >/dev/null; then
    echo "gnuplot not found (apt install gnuplot-nox): $gpu tables written, plot skipped" >&2
    return
  fi
  # One data block per family for the legend.
  awk -F, -v dir="$out" 'NR > 1 { fam = $3; gsub("/", "_", fam); print > (dir "/fam_" fam ".dat") }' \
    "$out/${prefix}cases.csv"
  local plots=""
  for f in "$out"/fam_*.dat; do
    plots="$plots '$f' using 5:6 with points pt 7 ps 0.8 title '$(head -1 "$f" | cut -d, -f3)' noenhanced,"
  done
  gnuplot <<GP
set terminal pngcairo size 900,800 font "sans,11"
set output "$out/${prefix}scatter.png"
set datafile separator ","
set logscale xy
set xlabel "measured time (us), $gpu"
set ylabel "attnsim predicted time (us)"
set title "attnsim vs measured on $gpu: prefill and decode kernels"
set key left top
set grid
f(x) = x
plot [5:1e6][5:1e6] $plots f(x) with lines lw 2 lc rgb "black" title "exact", \
     1.15*x with lines dt 2 lc rgb "gray" title "+/-15%", 0.85*x with lines dt 2 lc rgb "gray" notitle
GP
  rm -f "$out"/fam_*.dat
  echo "wrote $out/${prefix}scatter.png, ${prefix}summary.md, ${prefix}dram.md, ${prefix}cases.csv, ${prefix}report.txt"
}

one validation/h100/data "" "H100 SXM"
one validation/h200/data "h200-" "H200 SXM (config only, no refit)"

# Head dims between the built ones (H200, validation.md "Head dims"): latency only, no plot.
"$bin" validate --no-gate -q --csv "$out/h200-headdim-cases.csv" --markdown "$out/h200-headdim-summary.md" \
  validation/h200/data/headdim > "$out/h200-headdim-report.txt" || true
echo "wrote $out/h200-headdim-summary.md, h200-headdim-cases.csv, h200-headdim-report.txt"
