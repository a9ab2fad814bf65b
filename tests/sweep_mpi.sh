#!/bin/sh
# ctest entry sweep_mpi: the same sweep on one process and on 3 MPI ranks must write
# byte-identical CSV and JSON. Skipped (exit 77) when attnsim was built without MPI
# (-DATTNSIM_MPI=ON) or mpirun is missing.
# usage: sweep_mpi.sh ATTNSIM HAVE_MPI(0|1) SWEEP_FILE SCRATCH_DIR
ATTNSIM=$1 HAVE_MPI=$2 SWEEP=$3 DIR=$4
if [ "$HAVE_MPI" != 1 ]; then echo "SKIP: attnsim built without MPI (configure with -DATTNSIM_MPI=ON)"; exit 77; fi
if ! command -v mpirun >/dev/null 2>&1; then echo "SKIP: mpirun not found (apt-get install openmpi-bin)"; exit 77; fi
set -e
rm -rf "$DIR" && mkdir -p "$DIR"
"$ATTNSIM" sweep "$SWEEP" -o "$DIR/single" -j 1 --no-plot -q
mpirun --allow-run-as-root --oversubscribe -np 3 "$ATTNSIM" sweep "$SWEEP" -o "$DIR/mpi" --no-plot -q
cmp "$DIR/single.csv" "$DIR/mpi.csv"
cmp "$DIR/single.json" "$DIR/mpi.json"
echo "sweep_mpi: 3 ranks wrote the single-process files byte for byte ($(($(wc -l < "$DIR/single.csv") - 1)) points)"
