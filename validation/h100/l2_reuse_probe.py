#!/usr/bin/env python3
"""Nsight Compute probe: why FA2 prefill reads more DRAM than its compulsory bytes (attnsim issue 4).

FA2 (PyTorch's flash backend) reads 5-43% more than Q+K+V once at 4k-16k, cuDNN's kernel
reads about the compulsory bytes. This probe varies what could explain the excess:
  * heads in flight (b*h = 1, 4, 16, 64): capacity misses need many heads' K/V live at once;
    a single head's K/V (2 MB at 4k, 8 MB at 16k) fits the 50 MB L2 many times over;
  * causal or not: non-causal CTAs of one head read each K/V block nearly together
    (concurrent misses to one line), causal ones read it far apart in time;
  * K/V layout BHSD (what measure.py passes), BSHD (FA2's native layout), or BHSD with each head
    padded by 3 rows (head stride not a power of two: L2 set conflicts would move);
  * the L2 eviction-priority hints the kernels attach (evict_first / evict_last / normal sectors).
and records L2 read hits/misses and the traffic between the two L2 partitions where the
chip's metrics name it. The script calls ncu on itself.

    python3 validation/h100/l2_reuse_probe.py --out DIR
    python3 validation/h100/l2_reuse_probe.py --out DIR --cases spills

`--cases long` (2026-11-28): FA2 and cuDNN prefill at 64k and 128k with 4 or 8 heads, and d = 64
at 64k: calibration probes for long prefill (the validation kernels have 16 heads at d = 128).

`--cases local` (2026-11-28): FA2 at d = 128, 4 heads, 64k and 128k, and the 16k causal probe, with
where the spills' local-memory traffic goes (L1 hits and misses, L1-to-L2 writes, L2 write misses).

`--cases spills` (2026-11-27) asks whether FA2's excess comes from its d = 128 register spills:
FA2 at d = 64 (a kernel that does not spill) at the shapes where d = 128 reads 1.3-4.5x its
compulsory bytes, with the local-memory traffic counted.
"""
import argparse
import json
import os
import subprocess
import sys

WANTED = ["gpu__time_duration.sum", "dram__bytes_read.sum", "dram__bytes_write.sum",
          "lts__t_sectors_srcunit_tex_op_read.sum", "lts__t_sectors_srcunit_tex_op_read_lookup_hit.sum",
          "lts__t_sectors_srcunit_tex_op_read_lookup_miss.sum", "lts__t_sectors_srcunit_ltcfabric.sum",
          "lts__t_sectors_srcunit_ltcfabric_op_read.sum", "lts__t_sectors_srcnode_gpc.sum",
          "lts__t_sectors_srcunit_ltcfabric_lookup_miss.sum", "lts__t_sectors_srcunit_ltcfabric_lookup_hit.sum",
          "lts__t_sectors_srcnode_gpc_aperture_device_evict_first.sum",
          "lts__t_sectors_srcnode_gpc_aperture_device_evict_last.sum",
          "lts__t_sectors_srcnode_gpc_aperture_device_evict_normal.sum",
          "lts__t_sectors_srcnode_gpc_aperture_device_evict_normal_demote.sum",
          "l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum", "l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum"]
# `--cases local` (2026-11-28) also asks where FA2's local-memory (spill) traffic goes: L1 hits and
# misses of local loads and stores, and the SMs' writes that reach L2.
LOCAL_WANTED = ["lts__t_sectors_srcunit_tex_op_write.sum", "lts__t_sectors_srcunit_tex_op_write_lookup_hit.sum",
                "lts__t_sectors_srcunit_tex_op_write_lookup_miss.sum",
                "l1tex__t_sectors_pipe_lsu_mem_local_op_ld_lookup_hit.sum",
                "l1tex__t_sectors_pipe_lsu_mem_local_op_ld_lookup_miss.sum",
                "l1tex__t_sectors_pipe_lsu_mem_local_op_st_lookup_hit.sum",
                "l1tex__t_sectors_pipe_lsu_mem_local_op_st_lookup_miss.sum",
                "l1tex__m_l1tex2xbar_write_bytes.sum", "l1tex__m_xbar2l1tex_read_bytes.sum"]

# (backend, head_dim, seq, batch, heads, causal, layout)
CASES = []
for s in (4096, 16384):
    for bh in ((1, 1), (1, 4), (1, 16), (4, 16)):
        if s == 16384 and bh == (4, 16):
            continue
        for causal in (False, True):
            CASES.append(("fa2", 128, s, bh[0], bh[1], causal, "bhsd"))
CASES += [("fa2", 128, 4096, 4, 16, True, "bshd"), ("fa2", 128, 16384, 1, 16, True, "bshd"),
          ("fa2", 128, 4096, 4, 16, True, "pad"), ("fa2", 128, 16384, 1, 16, True, "pad"),
          ("fa2", 128, 16384, 1, 16, False, "pad"),
          ("fa3", 128, 4096, 4, 16, True, "bhsd"), ("fa3", 128, 16384, 1, 16, False, "bhsd"),
          ("fa2", 128, 1024, 16, 16, True, "bhsd"), ("fa2", 128, 2048, 8, 16, True, "bhsd"),
          ("fa2", 128, 8192, 2, 16, True, "bhsd"), ("fa2", 128, 8192, 2, 16, False, "bhsd"),
          ("fa2", 128, 32768, 1, 4, True, "bhsd"), ("fa2", 128, 32768, 1, 8, True, "bhsd"),
          ("fa3", 128, 16384, 1, 1, True, "bhsd"), ("fa3", 128, 16384, 1, 16, True, "bhsd")]

SPILL_CASES = [("fa2", 64, 16384, 1, 16, False, "bhsd"), ("fa2", 64, 16384, 1, 16, True, "bhsd"),
               ("fa2", 64, 32768, 1, 4, True, "bhsd"), ("fa2", 64, 32768, 1, 8, True, "bhsd"),
               ("fa2", 64, 4096, 4, 16, True, "bhsd"), ("fa3", 64, 16384, 1, 16, True, "bhsd"),
               ("fa2", 128, 16384, 1, 16, True, "bhsd"), ("fa2", 128, 32768, 1, 4, True, "bhsd")]
# `--cases long` (2026-11-28): calibration probes for long prefill, at head counts the validation
# set (16 heads, data/ncu.jsonl) does not use, and d = 64 at 16 heads.
LONG_CASES = [(lab, 128, s, 1, h, causal, "bhsd") for s in (65536, 131072) for h in (4, 8)
              for lab in ("fa2", "fa3") for causal in (False, True)]
LONG_CASES += [(lab, 64, 65536, 1, 16, causal, "bhsd") for lab in ("fa2", "fa3") for causal in (False, True)]
# `--cases local`: FA2 d = 128 among those, and the 16k causal spill probe, with LOCAL_WANTED.
LOCAL_CASES = [c for c in LONG_CASES if c[0] == "fa2" and c[1] == 128 and c[4] == 4] + [SPILL_CASES[6]]
if "--cases" in sys.argv:
    CASES = {"main": CASES, "spills": SPILL_CASES, "long": LONG_CASES,
             "local": LOCAL_CASES}[sys.argv[sys.argv.index("--cases") + 1]]


def case_id(c):
    lab, d, s, b, h, causal, layout = c
    return "%s-d%d-s%d-b%d-h%d-%s-%s" % (lab, d, s, b, h, "causal" if causal else "noncausal", layout)


def run_targets():
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import measure

    for c in CASES:
        lab, d, s, b, h, causal, layout = c
        if layout == "bhsd":
            q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        elif layout == "pad":
            q, k, v = (torch.randn(b, h, s + 3, d, device="cuda", dtype=torch.bfloat16)[:, :, :s] for _ in range(3))
        else:
            q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16).transpose(1, 2) for _ in range(3))
        fn = measure.sdpa_call(lab, q, k, v, causal)
        fn()  # warm-up; each launch is followed by a spin-kernel marker, the parser keeps the second
        measure.marker()
        fn()
        measure.marker()
        print("ran", case_id(c), flush=True)
        del q, k, v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--targets", action="store_true", help="internal: run the kernels (under ncu)")
    ap.add_argument("--cases", choices=["main", "spills", "long", "local"], default="main")
    a = ap.parse_args()
    if a.targets:
        run_targets()
        return
    os.makedirs(a.out, exist_ok=True)
    q = subprocess.run(["ncu", "--query-metrics", "--chip", "gh100"], capture_output=True, text=True).stdout
    names = {ln.split()[0] for ln in q.splitlines() if ln.strip() and not ln.startswith(("-", "Device"))}
    wanted = WANTED + (LOCAL_WANTED if a.cases == "local" else [])
    metrics = [m for m in wanted if m.rsplit(".", 1)[0] in names]
    with open(os.path.join(a.out, "l2_probe_metrics.txt"), "w") as f:
        f.write("asked: %s\nused: %s\n\nlts metrics on this chip:\n" % (wanted, metrics))
        f.write("\n".join(sorted(n for n in names if n.startswith("lts__t_sectors_src"))) + "\n")
        f.write("\nl1tex local-memory metrics on this chip:\n")
        f.write("\n".join(sorted(n for n in names if n.startswith("l1tex__") and "local" in n)) + "\n")
    raw = os.path.join(a.out, "l2_probe_ncu.csv")
    cmd = ["ncu", "--clock-control", "none", "--metrics", ",".join(metrics), "--csv", "--print-units", "base",
           "--kernel-name", "regex:flash_fwd|fprop|spin_kernel", "--log-file", raw,
           sys.executable, os.path.abspath(__file__), "--targets", "--cases", a.cases]
    r = subprocess.run(cmd, capture_output=True, text=True)
    print((r.stdout + r.stderr)[-3000:])
    with open(os.path.join(a.out, "l2_probe_cases.json"), "w") as f:
        json.dump([case_id(c) for c in CASES], f, indent=1)


if __name__ == "__main__":
    main()
