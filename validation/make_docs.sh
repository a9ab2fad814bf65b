#!/usr/bin/env bash
# Regenerates the tables and the scatter plot of docs/validation.md from the committed
# H100 data: `make validation-docs`. Needs gnuplot (Debian: gnuplot-nox) for the PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ATTNSIM:-build/attnsim}
out=docs/validation
mkdir -p "$out"
"$bin" validate --no-gate -q --csv "$out/cases.csv" --markdown "$out/summary.md" validation/h100/data > "$out/report.txt" || true
if ! command -v gnuplot >/dev/null; then
  echo "gnuplot not found (apt install gnuplot-nox): tables written, plot skipped" >&2
  exit 0
fi
# One data block per family for the legend.
awk -F, -v dir="$out" 'NR > 1 { fam = $3; gsub("/", "_", fam); print > (dir "/fam_" fam ".dat") }' "$out/cases.csv"
plots=""
for f in "$out"/fam_*.dat; do
  name=$(head -1 "$f" | cut -d, -f3)
  plots="$plots '$f' using 5:6 with points pt 7 ps 0.8 title '$name' noenhanced,"
done
gnuplot <<GP
set terminal pngcairo size 900,800 font "sans,11"
set output "$out/scatter.png"
set datafile separator ","
set logscale xy
set xlabel "measured time (us), H100 SXM"
set ylabel "attnsim predicted time (us)"
set title "attnsim vs measured: prefill (FA2, FA3, Flex, mem-efficient) and decode kernels"
set key left top
set grid
f(x) = x
plot [5:1e6][5:1e6] $plots f(x) with lines lw 2 lc rgb "black" title "exact", \
     1.15*x with lines dt 2 lc rgb "gray" title "+/-15%", 0.85*x with lines dt 2 lc rgb "gray" notitle
GP
rm -f "$out"/fam_*.dat
echo "wrote $out/scatter.png, $out/summary.md, $out/cases.csv, $out/report.txt"
