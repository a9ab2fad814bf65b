#!/usr/bin/env python3
"""Fit attnsim's per-kernel calibration constants on the CALIBRATION set only.

The split (docs/validation.md) is fixed before fitting: a case is in the calibration
set when the FNV-1a hash of its case_id is 0 mod 4. The short-prefill cases in
validation/h100/calibration-extra (sequence lengths the validation grid does not have)
are calibration data as a whole. For each kernel family this script grid-searches the
kernel's physically named constants (mma_efficiency, softmax_overlap_fraction,
tile_overhead_cycles, for fa3 also mask_vector_ops_per_element; memory_efficiency and
fixed_overhead for the decode kernels of their own) to minimise the family's calibration MAPE, by running
`attnsim validate` on a scratch copy of the configs. It prints the fitted values; a
person copies them into workloads/kernels/*.yaml with a [CAL] source tag. Validation
cases never enter.

Usage: python3 validation/fit_calibration.py [--attnsim build/attnsim] [--families prefill/fa3,...]
"""
import argparse
import contextlib
import csv
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# family -> (kernel config, {key: candidate values})
SEARCH = {
    "prefill/fa2": ("fa2", {"mma_efficiency": [0.6, 0.65, 0.7, 0.75, 0.8],
                            "softmax_overlap_fraction": [0.3, 0.4, 0.5, 0.6, 0.7],
                            "tile_overhead_cycles": [0, 1000, 2000, 3000, 4000]}),
    "prefill/fa3": ("fa3", {"mma_efficiency": [0.85, 0.9, 0.95, 1.0],
                            "softmax_overlap_fraction": [0.0, 0.1, 0.2, 0.3, 0.5],
                            "tile_overhead_cycles": [0, 1000, 2000, 3000, 4000, 6000],
                            "mask_vector_ops_per_element": [2, 8, 16]}),
    "prefill/flex": ("flex", {"mma_efficiency": [0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0],
                              "softmax_overlap_fraction": [0.0, 0.1, 0.2, 0.3, 0.4]}),
    "prefill/mem_efficient": ("mem_efficient", {"mma_efficiency": [0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
                                                "softmax_overlap_fraction": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]}),
    "decode/decode_fa2": ("flash_decoding", {"memory_efficiency": [0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0],
                                             "fixed_overhead": ["1ns", "2us", "4us", "6us", "8us", "10us"]}),
    "decode/decode_fa3": ("cudnn_decode", {"memory_efficiency": [0.8, 0.85, 0.9, 0.95, 1.0],
                                           "fixed_overhead": ["1ns", "1us", "2us", "3us", "4us", "6us"]}),
}


def set_key(text, key, value):
    """Replaces the first `key: value` line (at any indentation), keeping its comment; appends
    a top-level one when there is none."""
    pat = re.compile(r"^(\s*%s:\s*)([^#\n]*?)(\s*#.*)?$" % re.escape(key), re.M)
    if pat.search(text):
        return pat.sub(lambda m: m.group(1) + str(value) + (m.group(3) or ""), text, count=1)
    return text.rstrip("\n") + "\n%s: %s\n" % (key, value)


# Kernels that other families also run: their constants are fitted on the union (FA2's forward
# kernel serves one-token decode too when flash-decoding does not split, docs/gpu-model.md).
# The memory-efficient decode is the prefill's kernel at q_len 1: its config copies the prefill's
# fitted constants (workloads/kernels/mem_efficient_decode.yaml), so its cases join that fit.
ALSO_RUN_BY = {"prefill/fa2": ["decode/decode_fa2"], "prefill/mem_efficient": ["decode/decode_mem_efficient"]}
SHARES_CONSTANTS = {"mem_efficient": ["mem_efficient_decode"]}


def calibration_mape(attnsim, root, family):
    errs = []
    for fam in [family] + ALSO_RUN_BY.get(family, []):
        errs += family_errors(attnsim, root, fam)
    return (sum(errs) / len(errs) if errs else float("nan")), len(errs)


@contextlib.contextmanager
def scratch_root(prefix):
    """A scratch copy of hw-configs/ and workloads/ that a fitter edits (the fitters share it):
    `attnsim validate` reads it through ATTNSIM_DATA_ROOT, and it is removed afterwards."""
    root = tempfile.mkdtemp(prefix=prefix)
    try:
        for d in ("hw-configs", "workloads"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(root, d))
        yield root
    finally:
        shutil.rmtree(root)


def validate_rows(attnsim, root, inputs, args=()):
    """`attnsim validate INPUTS ARGS` against the configs under `root`: its CSV rows."""
    out = os.path.join(root, "validate.csv")
    subprocess.run([attnsim, "validate", *inputs, *args, "--no-gate", "-q", "--csv", out],
                   env=dict(os.environ, ATTNSIM_DATA_ROOT=root), check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return list(csv.DictReader(f))


def family_errors(attnsim, root, family):
    """Relative errors of the family's calibration-set cases plus every case of the extra calibration
    data (validation/h100/calibration-extra: shapes that are not in the validation grid)."""
    runs = [(os.path.join(ROOT, "validation", "h100", "data"), ["--set", "calibration"]),
            (os.path.join(ROOT, "validation", "h100", "calibration-extra"), [])]
    errs = []
    for data, extra in runs:
        for row in validate_rows(attnsim, root, [data], [*extra, "--family", family]):
            m, p = float(row["measured_us"]), float(row["attnsim_us"])
            errs.append(abs(p - m) / m)
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attnsim", default=os.path.join(ROOT, "build", "attnsim"))
    ap.add_argument("--families", default=",".join(SEARCH))
    args = ap.parse_args()
    with scratch_root("attnsim-fit-") as scratch:
        for family in args.families.split(","):
            kernel, grid = SEARCH[family]
            # The kernel's config and those that copy its constants (SHARES_CONSTANTS) move together.
            paths = [os.path.join(scratch, "workloads", "kernels", k + ".yaml")
                     for k in [kernel] + SHARES_CONSTANTS.get(kernel, [])]
            originals = [open(p).read() for p in paths]
            best = None
            keys = list(grid)
            for values in itertools.product(*(grid[k] for k in keys)):
                for path, original in zip(paths, originals):
                    text = original
                    for k, v in zip(keys, values):
                        text = set_key(text, k, v)
                    open(path, "w").write(text)
                mape, n = calibration_mape(args.attnsim, scratch, family)
                if best is None or mape < best[0]:
                    best = (mape, dict(zip(keys, values)), n)
            for path, original in zip(paths, originals):
                open(path, "w").write(original)
            print("%-24s calibration cases %3d  MAPE %5.1f%%  %s" % (family, best[2], 100 * best[0],
                  "  ".join("%s=%s" % kv for kv in best[1].items())), flush=True)


if __name__ == "__main__":
    sys.exit(main())
