#!/usr/bin/env python3
"""Where FA2's register spills go (issue 4, DRAM bytes at long context): L1, L2 or DRAM?

    python3 validation/h100/fa2_local_traffic.py

Reads the committed Nsight Compute probe records (data/probe/*.jsonl, */*.jsonl) and prints, per
FA2 kernel:
  * the L2 reads from the SMs beyond K/V and Q (each CTA reads Q once and its K/V tiles: 128 query
    rows per CTA at d = 128 and 64 alike, every key for non-causal tiles, up to the tile's last row
    for causal ones). Zero beyond means no local-memory loads reach L2;
  * local loads and stores, and (data/probe/local, `l2_reuse_probe.py --cases local`) how many of
    them miss L1, the L1-to-L2 write bytes and the SM writes that miss in L2.
"""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS_PER_CTA = 128


def expected_l2_reads(j):
    s, d, heads = j["kv_len"], j["head_dim"], j["batch"] * j["q_heads"]
    tiles = s // ROWS_PER_CTA
    keys = sum(min(s, (i + 1) * ROWS_PER_CTA) for i in range(tiles)) if j["causal"] else tiles * s
    return heads * (keys * d * 2 * 2 + s * d * 2)  # K and V per key, Q once; bf16


def main():
    paths = sorted(glob.glob(os.path.join(HERE, "data", "probe", "*.jsonl")) +
                   glob.glob(os.path.join(HERE, "data", "probe", "*", "*.jsonl")))
    gb = lambda x: "%8.2f" % (x / 1e9) if x is not None else "%8s" % "-"
    print("%-44s %8s %8s %8s %8s %8s %8s %8s %8s" % ("FA2 kernel (GB)", "L2 rd", "beyond", "loc ld", "ld miss",
                                                    "loc st", "st miss", "L1->L2 w", "L2 w mis"))
    for path in paths:
        for line in open(path):
            j = json.loads(line)
            if j.get("kernel") != "fa2" or "l2_tex_read_bytes" not in j:
                continue
            rd = j["l2_tex_read_bytes"]
            print("%-44s %s %s %s %s %s %s %s %s  (%s)" % (
                j["case_id"].replace("l2probe-", ""), gb(rd), gb(rd - expected_l2_reads(j)),
                gb(j.get("local_load_bytes")), gb(j.get("local_load_l1_miss_bytes")), gb(j.get("local_store_bytes")),
                gb(j.get("local_store_l1_miss_bytes")), gb(j.get("l1_to_l2_write_bytes")),
                gb(j.get("l2_tex_write_miss_bytes")), os.path.relpath(path, HERE)))


if __name__ == "__main__":
    main()
