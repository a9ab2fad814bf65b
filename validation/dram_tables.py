#!/usr/bin/env python3
"""The DRAM-bytes tables of docs/validation.md, from the committed Nsight Compute records and
`attnsim validate`'s per-case CSV (validation/make_docs.sh writes docs/validation/{,h200-}dram.md).

    python3 validation/dram_tables.py DATA_DIR CASES_CSV

DATA_DIR holds ncu.jsonl (five launches per kernel, the median kept) and, if present,
ncu_single_launch/ncu.jsonl (the earlier single launches, compared in a last column). Two tables:
kernels up to 16k and decode, then prefill from 32k on.
"""
import csv
import json
import os
import sys

LONG_FROM = 32768
KERNELS = {"fa2": "FA2", "fa3": "cuDNN", "decode_fa2": "FA2", "decode_fa3": "cuDNN"}


def label(j):
    size = "%dk" % (j["kv_len"] // 1024)
    if j["phase"] == "decode":
        return "decode %s %s b%d %s" % (KERNELS[j["kernel"]], "MHA" if j["kv_heads"] == j["q_heads"] else "GQA",
                                       j["batch"], size)
    p = j["pattern"]
    if j["kernel"] == "flex":
        name = "flex %s %d%%" % (p["name"].replace("_block", ""), round(100 * p.get("density", 1)))
    else:
        name = KERNELS[j["kernel"]]
    batch = " b%d" % j["batch"] if j["batch"] > 1 else ""
    return "%s %s%s%s" % (name, size, batch, " causal" if p["name"] == "causal" or p.get("causal") else "")


def compulsory_reads(j):
    """Q, K and V once (bf16)."""
    q = j["batch"] * j["q_heads"] * (1 if j["phase"] == "decode" else j["q_len"]) * j["head_dim"] * 2
    return q + 2 * j["batch"] * j["kv_heads"] * j["kv_len"] * j["head_dim"] * 2


def mb(x):
    return "%.1f" % (x / 1e6)


def pct(x):
    s = "%+.1f%%" % (100 * x)
    return s.replace("-", "−") if s != "-0.0%" else "−0.0%"


def main():
    data, cases_csv = sys.argv[1], sys.argv[2]
    model = {r["case_id"]: r for r in csv.DictReader(open(cases_csv))}
    recs = [json.loads(l) for l in open(os.path.join(data, "ncu.jsonl"))]
    single_path = os.path.join(data, "ncu_single_launch", "ncu.jsonl")
    single = {}
    if os.path.exists(single_path):
        single = {j["case_id"]: j for j in map(json.loads, open(single_path))}
    for long_ctx in (False, True):
        rows = [j for j in recs if (j["phase"] == "prefill" and j["kv_len"] >= LONG_FROM) == long_ctx]
        with_single = not long_ctx and all(j["case_id"] in single for j in rows)
        head = ["case", "measured MB, median (read / write)", "reads, 5 launches", "reads / compulsory",
                "attnsim MB (read / write)", "total error"]
        if with_single:
            dates = sorted({single[j["case_id"]].get("timestamp", "")[:10] for j in rows} - {""})
            head.append("error vs the single launch" + (" of " + ", ".join(dates) if dates else ""))
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for j in rows:
            m = model[j["case_id"]]
            runs = j.get("dram_read_bytes_runs") or [j["dram_read_bytes"]]
            total = float(m["attnsim_dram_bytes"])
            err = total / j["dram_bytes"] - 1
            cells = [label(j), "%s / %s" % (mb(j["dram_read_bytes"]), mb(j["dram_write_bytes"])),
                     "%s–%s" % (mb(min(runs)), mb(max(runs))), "%.2fx" % (j["dram_read_bytes"] / compulsory_reads(j)),
                     "%s / %s" % (mb(float(m["attnsim_dram_read_bytes"])), mb(float(m["attnsim_dram_write_bytes"]))),
                     ("**%s**" if abs(err) > 0.10 else "%s") % pct(err)]
            if with_single:
                cells.append(pct(total / single[j["case_id"]]["dram_bytes"] - 1))
            print("| " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    sys.exit(main())
