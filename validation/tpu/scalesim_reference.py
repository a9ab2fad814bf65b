#!/usr/bin/env python3
"""Independent reference for the cycles SCALE-Sim v2 reports for one GEMM layer.

Written from a reading of scalesim-project/scale-sim-v2 (files named below), not from
attnsim's MXU model, and sharing no code with SCALE-Sim: the cycle arithmetic is a
closed form derived from how SCALE-Sim builds its demand matrices, plus a short
event loop for the one memory effect its default configuration can add. Standard
library only.

How a GEMM topology row becomes a layer
---------------------------------------
A GEMM topology row "name, M, N, K," (scale.py -i gemm) is read by
scalesim/topology_utils.py, topologies.load_arrays_gemm(), as a convolution with

    ifmap  height = M, ifmap width = K, filter height = 1, filter width = K,
    channels = 1, num filters = N, strides 1, 1

so topo_calc_hyperparams() gives ofmap = M x 1 pixels per filter, window size
1*K*1 = K and N filters. scalesim/compute/operand_matrix.py then builds

    ifmap  operand matrix: (ofmap pixels) x (window)  = M x K
    filter operand matrix: (window) x (num filters)   = K x N
    ofmap  operand matrix: (ofmap pixels) x (filters) = M x N

i.e. SCALE-Sim's "ifmap" is attnsim's A (M x K), "filter" is B (K x N), "ofmap" C.
(Version note: at commit 013c54e load_arrays_gemm passed [m, k, 1, k, 1, n, 1, 1]
to append_topo_arrays(), which skips element 0, so the layer silently became
ifmap K x 1, filter K x 1, N channels, 1 filter: a 1 x (K*N) x 1 GEMM. Later
versions (e.g. 18975c2) put the layer name at index 0 and get the mapping above.
This module follows the corrected mapping.)

How each dataflow maps the operands onto an R x C array
-------------------------------------------------------
scalesim/compute/systolic_compute_{os,ws,is}.py, set_params(), name the spatial
extents Sr (mapped on the R rows), Sc (on the C columns) and the temporal extent T:

    dataflow  Sr         Sc          T      row folds     col folds
    os        M (ifmap rows)  N (filter cols)  K   ceil(M/R)   ceil(N/C)
    ws        K (ifmap cols)  N (filter cols)  M   ceil(K/R)   ceil(N/C)
    is        K (ifmap cols)  M (ifmap rows)   N   ceil(K/R)   ceil(M/C)

(the same table is topologies.calc_spatio_temporal_params()). Folds run column
fold outer, row fold inner. Every fold is padded to the full R x C array: a ragged
last fold costs as much time as a full one (only the mapping-efficiency figure sees
the padding).

Each compute class builds, per fold, one demand matrix per operand whose rows are
cycles; the three must have the same number of rows (create_demand_matrices()
asserts it). Per fold, with skew_matrix() adding (number of columns - 1) rows:

  os: create_ifmap_demand_mat: T rows + (C-1) drain rows, skewed over R columns
      create_filter_demand_mat: T rows + (R-1) rows, skewed over C columns
      create_ofmap_demand_mat: (T-1) wait rows + R output rows, skewed over C
      -> T + R + C - 2 rows per fold
  ws: ifmap: R weight-load rows + T rows + (C-1) rows, skewed over R
      filter: R rows + (R + C + T - 2) rows, not skewed
      ofmap: (2R-1) rows + T rows, skewed over C
      -> 2R + C + T - 2 rows per fold
  is: ifmap: R rows + (R + C + T - 2) rows, not skewed
      filter: R rows + T rows + (C-1) rows, skewed over R
      ofmap: (2R-1) rows + T rows, skewed over C
      -> 2R + C + T - 2 rows per fold

so the demand matrices have L = row_folds * col_folds * per_fold rows.

What SCALE-Sim reports
----------------------
scalesim/memory/double_buffered_scratchpad_mem.py, service_memory_requests(), issues
demand row i at cycle i + stall_cycles and sets total_cycles to the cycle at which
the last ofmap row is serviced (int(ofmap_serviced_cycles[-1][0]); later versions
take the max, the same value). single_layer_sim.calc_report_data() copies it to the
"Total Cycles" column of COMPUTE_REPORT.csv (simulator.generate_reports()), and
simulator.run() prints the same number as "Compute cycles". Rows are numbered from
0, so without stalls the reported number is

    compute_cycles = L - 1

one less than the number of demand rows (scalesim-project/SCALE-Sim issue #125:
a 4x4 OS layer whose schedule has 10 rows reports "Compute cycles: 9"). No other
constant is added. Where L = 1 (a 1x1 array, a 1x1x1 OS GEMM) the figure is 0 and
single_layer_sim.calc_report_data() would divide by it for the utilisation: that
table row gives the arithmetic, not an observed report. With stalls, Total Cycles = L - 1 + Stall Cycles, so
compute_cycles is also Total Cycles - Stall Cycles.

Stalls under the default memory configuration
---------------------------------------------
scale.py defaults to -c ../configs/scale.cfg: 64 kB ifmap, filter and ofmap SRAMs,
InterfaceBandwidth: CALC (configs/scale.cfg at 7039cde). In CALC mode
single_layer_sim.run() sets estimate_bandwidth_mode, word size 1 byte, active
buffer fraction 0.5 and an ofmap backing bandwidth of C words per cycle.

* Reads never stall: read_buffer_estimate_bw.ReadBufferEstimateBw.service_reads()
  returns request cycle + hit latency, and service_memory_requests() subtracts the
  hit latency again, so ifmap and filter stalls are 0.
* Writes: write_buffer.service_writes() stores each valid ofmap element; once the
  free space drops below the active half (more than 32768 elements buffered) it
  force-appends the partial trace line and calls empty_drain_buf(), which drains
  ceil(drain_buf_size / C) trace lines of C words, one line per cycle through a
  write_port with latency 0. In the later write_buffer.py (28e58ea, which also
  takes np.amax of the drain's cycles; I did not pin down the commit that changed
  it) the element's cycle then becomes the drain's end cycle, so each drain of n
  lines stalls the array n - 1 cycles. (In the earlier
  version at 51074ed the drain did not move the cycle; a stall needed a completely
  full buffer during a drain, which the one-row-per-cycle demand never produces, so
  there Total Cycles = L - 1 always.) The drained word count is n*C minus the -1
  padding of the last drained line only, so a partial line forced out by an earlier
  drain counts as full if it is drained in the middle of a later batch: free space
  drifts, and the loop below reproduces that.
  The stall therefore depends only on the number of ofmap writes E (os: M*N; ws
  and is: M*N*row_folds, a partial-sum write per row fold), C and the SRAM size,
  not on where the writes fall in the schedule.

    total_cycles = L - 1 + ofmap_drain_stalls(E, C, 64 kB)

which equals compute_cycles whenever E <= 32768.

Run `python3 scalesim_reference.py --self-test` to check the closed forms against a
literal construction of the demand-matrix row counts and a literal per-element
write-buffer loop; `--csv PATH` writes the reference table.
"""

import argparse
import collections
import csv
import math
import sys

DATAFLOWS = ("os", "ws", "is")

# configs/scale.cfg defaults (scale.py -c default) and single_layer_sim.run() constants.
DEFAULT_OFMAP_SRAM_KB = 64
WORD_SIZE_BYTES = 1
ACTIVE_BUF_FRAC = 0.5


def ceil_div(a, b):
    return -(-a // b)


def spatio_temporal(dataflow, m, n, k):
    """(Sr, Sc, T) of a GEMM (M, N, K) under SCALE-Sim's dataflow."""
    if dataflow == "os":
        return m, n, k
    if dataflow == "ws":
        return k, n, m
    if dataflow == "is":
        return k, m, n
    raise ValueError("dataflow must be one of os, ws, is: " + repr(dataflow))


def folds(rows, cols, dataflow, m, n, k):
    sr, sc, _ = spatio_temporal(dataflow, m, n, k)
    return ceil_div(sr, rows), ceil_div(sc, cols)


def rows_per_fold(rows, cols, dataflow, t):
    if dataflow == "os":
        return t + rows + cols - 2
    return 2 * rows + cols + t - 2


def demand_rows(rows, cols, dataflow, m, n, k):
    """L: rows of each demand matrix (cycles of the stall-free schedule)."""
    _, _, t = spatio_temporal(dataflow, m, n, k)
    row_folds, col_folds = folds(rows, cols, dataflow, m, n, k)
    return row_folds * col_folds * rows_per_fold(rows, cols, dataflow, t)


def compute_cycles(rows, cols, dataflow, m, n, k):
    """What SCALE-Sim reports as Total Cycles (and prints as Compute cycles) without stalls."""
    return demand_rows(rows, cols, dataflow, m, n, k) - 1


def ofmap_writes(rows, cols, dataflow, m, n, k):
    """Valid elements in the ofmap demand matrix."""
    row_folds, _ = folds(rows, cols, dataflow, m, n, k)
    if dataflow == "os":
        return m * n
    return m * n * row_folds


def ofmap_drain_stalls(writes, line_words, sram_elems):
    """Stall cycles write_buffer.service_writes() adds (28e58ea semantics), by batches.

    Pending trace lines are kept as runs [lines, valid words per line]."""
    active = int(math.ceil(sram_elems * ACTIVE_BUF_FRAC))
    drain_size = sram_elems - active
    lines_per_drain = ceil_div(drain_size, line_words)
    free = sram_elems
    partial = 0  # words in the line being filled
    pending = collections.deque()
    left = writes
    stalls = 0
    while True:
        # Elements stored before one leaves free < active (a drain fires on that one).
        until_drain = free - active + 1
        if until_drain > left:
            return stalls
        left -= until_drain
        free -= until_drain
        words = partial + until_drain
        if words // line_words:
            pending.append([words // line_words, line_words])
        if words % line_words:
            pending.append([1, words % line_words])  # forced out with -1 padding
        partial = 0
        # Drain up to lines_per_drain lines.
        taken = 0
        last_valid = 0
        while taken < lines_per_drain and pending:
            run = pending[0]
            use = min(run[0], lines_per_drain - taken)
            taken += use
            last_valid = run[1]
            run[0] -= use
            if run[0] == 0:
                pending.popleft()
        free += (taken - 1) * line_words + last_valid
        stalls += taken - 1


def total_cycles(rows, cols, dataflow, m, n, k, ofmap_sram_kb=DEFAULT_OFMAP_SRAM_KB):
    """COMPUTE_REPORT.csv Total Cycles under configs/scale.cfg (CALC mode)."""
    sram_elems = (1024 * ofmap_sram_kb) // WORD_SIZE_BYTES
    stalls = ofmap_drain_stalls(ofmap_writes(rows, cols, dataflow, m, n, k), cols, sram_elems)
    return compute_cycles(rows, cols, dataflow, m, n, k) + stalls


# ---------------------------------------------------------------------------------------
# Self-test: literal constructions to check the closed forms above.


def _literal_demand_rows(rows, cols, dataflow, m, n, k):
    """Row counts of the three demand matrices, built fold by fold as the compute classes
    stack their blocks (prefix, data, suffix, skew); returns the common count."""
    sr, sc, t = spatio_temporal(dataflow, m, n, k)
    total = {"ifmap": 0, "filter": 0, "ofmap": 0}
    for _fc in range(ceil_div(sc, cols)):
        for _fr in range(ceil_div(sr, rows)):
            if dataflow == "os":
                blocks = {"ifmap": ([t, cols - 1], rows),
                          "filter": ([t, rows - 1], cols),
                          "ofmap": ([t - 1, rows], cols)}
            elif dataflow == "ws":
                blocks = {"ifmap": ([rows, t, cols - 1], rows),
                          "filter": ([rows, rows + cols + t - 2], 1),
                          "ofmap": ([2 * rows - 1, t], cols)}
            else:
                blocks = {"ifmap": ([rows, rows + cols + t - 2], 1),
                          "filter": ([rows, t, cols - 1], rows),
                          "ofmap": ([2 * rows - 1, t], cols)}
            for name, (parts, skew_cols) in blocks.items():
                total[name] += sum(parts) + skew_cols - 1
    assert total["ifmap"] == total["filter"] == total["ofmap"], total
    return total["ofmap"]


def _literal_drain_stalls(writes, line_words, sram_elems, row_words):
    """Element-by-element replay of write_buffer.service_writes(), one call per demand row
    of up to row_words valid elements, timed as
    double_buffered_scratchpad.service_memory_requests() times the rows."""
    active = int(math.ceil(sram_elems * ACTIVE_BUF_FRAC))
    drain_size = sram_elems - active
    free = sram_elems
    lines = []  # valid words per trace line
    line_fill = 0
    drain_start = 0
    drain_end_cycle = 0
    stall_cycles = 0
    row = 0
    left = writes
    while left > 0:
        in_cycle = row + stall_cycles
        current = in_cycle
        for _ in range(min(row_words, left)):
            left -= 1
            free -= 1
            line_fill += 1
            if line_fill == line_words:
                lines.append(line_words)
                line_fill = 0
            if current < drain_end_cycle:
                if not free > 0:
                    current = drain_end_cycle
            elif free < sram_elems - drain_size:
                if line_fill:
                    lines.append(line_fill)
                    line_fill = 0
                end = min(drain_start + int(math.ceil(drain_size / line_words)), len(lines))
                taken = end - drain_start
                free += taken * line_words - (line_words - lines[end - 1])
                drain_start = end
                drain_end_cycle = current + taken - 1  # write_port latency 0
                current = drain_end_cycle
        stall_cycles += current - in_cycle
        row += 1
    return stall_cycles


def self_test():
    for rows, cols in ((1, 1), (2, 3), (4, 4), (5, 2)):
        for df in DATAFLOWS:
            for m in (1, 2, 5, 9):
                for n in (1, 3, 8):
                    for k in (1, 4, 7):
                        assert demand_rows(rows, cols, df, m, n, k) == \
                            _literal_demand_rows(rows, cols, df, m, n, k)
    for sram in (2, 3, 8, 17, 64):
        for line_words in (1, 2, 3, 5, 8):
            for row_words in (1, line_words, 2 * line_words + 1):
                for writes in range(0, 5 * sram + 7):
                    fast = ofmap_drain_stalls(writes, line_words, sram)
                    slow = _literal_drain_stalls(writes, line_words, sram, row_words)
                    assert fast == slow, (sram, line_words, row_words, writes, fast, slow)
    # Issue #125: 4x4 OS with a 10-row schedule reports 9.
    assert compute_cycles(4, 4, "os", 4, 4, 4) == 9
    print("self-test passed")


# ---------------------------------------------------------------------------------------
# The reference table.

ARRAYS_AND_GEMMS = [
    ((1, 1), [(1, 1, 1), (3, 5, 7), (2, 1, 4)]),
    ((4, 4), [(4, 4, 4), (8, 12, 16), (4, 4, 2), (5, 7, 3), (1, 1, 1), (1, 4, 9)]),
    ((8, 16), [(8, 16, 8), (20, 33, 5), (16, 16, 100), (1, 16, 64), (7, 1, 1)]),
    ((32, 32), [(32, 32, 32), (100, 50, 70), (64, 96, 16), (1, 32, 4096), (33, 31, 1)]),
    ((128, 128), [(128, 128, 128), (512, 128, 512), (1, 128, 4096), (130, 257, 64),
                  (128, 1, 128)]),
    ((256, 256), [(128, 128, 128), (512, 128, 512), (1, 128, 4096), (256, 256, 256),
                  (300, 200, 513)]),
]


def reference_rows():
    for (rows, cols), gemms in ARRAYS_AND_GEMMS:
        for m, n, k in gemms:
            for df in DATAFLOWS:
                yield {"rows": rows, "cols": cols, "dataflow": df, "m": m, "n": n, "k": k,
                       "compute_cycles": compute_cycles(rows, cols, df, m, n, k),
                       "total_cycles": total_cycles(rows, cols, df, m, n, k)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--csv", help="write the reference table here")
    args = parser.parse_args(argv)
    if args.self_test:
        self_test()
    if args.csv:
        fields = ["rows", "cols", "dataflow", "m", "n", "k", "compute_cycles", "total_cycles"]
        with open(args.csv, "w", newline="") as f:
            f.write("# SCALE-Sim v2 cycles for one GEMM layer; generated by "
                    "validation/tpu/scalesim_reference.py --csv (see its docstring)\n")
            writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(reference_rows())
    if not args.self_test and not args.csv:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
