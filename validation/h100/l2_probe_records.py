#!/usr/bin/env python3
"""Turns l2_reuse_probe.py's Nsight Compute log into measurement records (docs/measurement-format.md),
one per case, so that `attnsim validate FILE` compares its DRAM bytes with the probe's.

    python3 validation/h100/l2_probe_records.py validation/h100/data/probe > validation/h100/data/probe/l2_reuse.jsonl
"""
import csv
import json
import os
import sys


def kernels(path):
    """Kernels in launch order, each {name, grid, metrics{name: value}} (ncu --print-units base)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(ln for ln in f if ln.startswith('"')))
    out = {}
    for r in rows:
        k = out.setdefault(int(r["ID"]), {"name": r["Kernel Name"], "grid": r["Grid Size"], "metrics": {}})
        try:
            k["metrics"][r["Metric Name"]] = float(r["Metric Value"].replace(",", ""))
        except ValueError:
            pass
    return [out[i] for i in sorted(out)]


def local_fields(tot):
    """`--cases local`: where local-memory traffic goes, in bytes, for the metrics that were measured."""
    fields = [("l2_tex_write_bytes", "lts__t_sectors_srcunit_tex_op_write.sum", 32),
              ("l2_tex_write_miss_bytes", "lts__t_sectors_srcunit_tex_op_write_lookup_miss.sum", 32),
              ("local_load_l1_miss_bytes", "l1tex__t_sectors_pipe_lsu_mem_local_op_ld_lookup_miss.sum", 32),
              ("local_load_l1_hit_bytes", "l1tex__t_sectors_pipe_lsu_mem_local_op_ld_lookup_hit.sum", 32),
              ("local_store_l1_miss_bytes", "l1tex__t_sectors_pipe_lsu_mem_local_op_st_lookup_miss.sum", 32),
              ("local_store_l1_hit_bytes", "l1tex__t_sectors_pipe_lsu_mem_local_op_st_lookup_hit.sum", 32),
              ("l1_to_l2_write_bytes", "l1tex__m_l1tex2xbar_write_bytes.sum", 1),
              ("l2_to_l1_read_bytes", "l1tex__m_xbar2l1tex_read_bytes.sum", 1)]  # (field, metric, bytes per unit)
    return {k: scale * tot[m] for k, m, scale in fields if m in tot}


def main():
    d = sys.argv[1]
    ks = kernels(os.path.join(d, "l2_probe_ncu.csv"))
    cases = json.load(open(os.path.join(d, "l2_probe_cases.json")))
    segments = [[]]
    for k in ks:  # a spin-kernel marker follows every launch: warm-up, marker, measured, marker
        if "spin_kernel" in k["name"]:
            segments.append([])
        else:
            segments[-1].append(k)
    measured = segments[1::2]
    if len(measured) < len(cases):
        sys.exit("fewer measured launches (%d) than cases (%d)" % (len(measured), len(cases)))
    hw = open(os.path.join(d, "l2_probe_gpu.txt")).read().splitlines()[1].split(",")[0].strip()
    for cid, group in zip(cases, measured):
        lab, dd, s, b, h, mode, layout = cid.split("-")
        s, b, h, dd = int(s[1:]), int(b[1:]), int(h[1:]), int(dd[1:])
        tot = {}
        for k in group:
            for m, v in k["metrics"].items():
                tot[m] = tot.get(m, 0.0) + v
        rec = {"case_id": "l2probe-" + cid, "hardware": hw, "hardware_model": "H100 SXM", "phase": "prefill",
               "kernel": lab, "batch": b, "q_heads": h, "kv_heads": h, "head_dim": dd, "q_len": s, "kv_len": s,
               "dtype": "bfloat16", "causal": mode == "causal", "layout": layout,
               "pattern": {"name": "causal" if mode == "causal" else "dense"}, "mask_file": None, "status": "ok",
               "timing": "ncu gpu__time_duration (one profiled launch)", "ncu_settings": "--clock-control none, --cache-control all",
               "time_us": tot["gpu__time_duration.sum"] / 1e3, "bytes_min": 4 * b * h * s * dd * 2,
               "dram_read_bytes": tot["dram__bytes_read.sum"], "dram_write_bytes": tot["dram__bytes_write.sum"],
               "dram_bytes": tot["dram__bytes_read.sum"] + tot["dram__bytes_write.sum"],
               "l2_tex_read_bytes": 32 * (tot.get("lts__t_sectors_srcunit_tex_op_read.sum", 0)),
               "l2_tex_read_miss_bytes": 32 * tot.get("lts__t_sectors_srcunit_tex_op_read_lookup_miss.sum", 0),
               "l2_fabric_bytes": 32 * tot.get("lts__t_sectors_srcunit_ltcfabric.sum", 0),
               "local_load_bytes": tot.get("l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum"),
               "local_store_bytes": tot.get("l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum"),
               **local_fields(tot),
               "ncu_kernels": [{"name": k["name"][:160], "grid": k["grid"]} for k in group]}
        print(json.dumps(rec))


if __name__ == "__main__":
    main()
