#!/usr/bin/env python3
"""SDPA prefill per backend and head dim, one call each, to run under Nsight Compute.

    python3 headdim_kernels.py [BACKENDS] [DIMS]     # defaults: fa2,fa3,mem_efficient 64,80,96,128,160,192,224,256

S = 8k, B = 2, 16 heads, non-causal, random bf16 inputs. The two runs of 2026-11-28 (H200), output
in validation/h200/data/headdim/:

* which kernel each head dim launches (the name carries the built head dim and tile: FA2
  Flash_fwd_kernel_traits<d, kBlockM, kBlockN, warps, ...>, cuDNN ..._64x128x<d>_..., memory-
  efficient fmha_cutlassF_..._<rows>x<keys>_...), headdim_kernels_ncu.csv:
    ncu --csv --metrics launch__grid_size,launch__block_size,launch__registers_per_thread,\
launch__shared_mem_per_block_dynamic,gpu__time_duration.sum -k regex:'flash|fmha|cudnn|sm90|attention' \
python3 headdim_kernels.py

* what FA2's uneven-width path (Is_even_K false: d = 40, 56, 112) costs against d = 64 and 128,
  headdim_uneven_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,smsp__inst_executed.sum,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,\
smsp__inst_executed_op_ldgsts.sum,smsp__inst_executed_op_global_ld.sum,smsp__inst_executed_op_shared_st.sum,\
lts__t_sectors_srcunit_tex_op_read.sum,dram__bytes_read.sum,sm__warps_active.avg.pct_of_peak_sustained_active,\
smsp__average_warp_latency_issue_stalled_barrier.ratio,smsp__average_warp_latency_issue_stalled_short_scoreboard.ratio,\
smsp__average_warp_latency_issue_stalled_long_scoreboard.ratio,smsp__average_warp_latency_issue_stalled_mio_throttle.ratio,\
smsp__average_warp_latency_issue_stalled_math_pipe_throttle.ratio,smsp__issue_active.avg.pct_of_peak_sustained_active,\
launch__registers_per_thread -k regex:flash_fwd python3 headdim_kernels.py fa2 40,56,64,112,128

* the same store counts for every FA2 kernel (which head dims run unevenly, read off `Is_even_K`
  in the kernel name; validation/fit_uneven_width.py turns them into the tiles'
  uneven_width_smem_wavefronts_per_key), headdim_uneven_all_ncu.csv (GPU: gpu_uneven_all.txt):
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,smsp__inst_executed_op_shared_st.sum,\
l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,\
smsp__inst_executed_op_ldgsts.sum,launch__grid_size,launch__block_size,launch__registers_per_thread \
-k regex:flash_fwd python3 headdim_kernels.py fa2 32,40,48,64,72,80,88,96,104,120,128,160,176,192,224,256

* FA2 and cuDNN at the wide head dims (shared-memory loads per tile step, local memory, tensor pipe,
  clock, stall reasons), headdim_wide_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,\
l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum,l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum,\
lts__t_sectors_srcunit_tex_op_read.sum,dram__bytes_read.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,\
smsp__average_warp_latency_issue_stalled_{short_scoreboard,long_scoreboard,barrier,math_pipe_throttle,\
mio_throttle,wait}.ratio,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__cycles_elapsed.avg.per_second,\
launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block_dynamic,\
sm__warps_active.avg.pct_of_peak_sustained_active -k regex:'flash_fwd|cudnn|sm90' \
python3 headdim_kernels.py fa2,fa3 128,192,256
  (the stall metrics spelled out one by one; braces here only to keep the line short)

* the memory-efficient kernels' L2 and DRAM traffic (the gmem kernel's accumulator),
  headdim_memeff_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,lts__t_sectors_srcunit_tex_op_read.sum,\
lts__t_sectors_srcunit_tex_op_write.sum,dram__bytes_read.sum,dram__bytes_write.sum,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__t_bytes_pipe_lsu_mem_global_op_ld.sum,\
l1tex__t_bytes_pipe_lsu_mem_global_op_st.sum,smsp__inst_executed_op_ldgsts.sum,launch__grid_size,launch__block_size,\
launch__registers_per_thread -k regex:fmha python3 headdim_kernels.py mem_efficient 64,128,160,192,256

* the memory-efficient kernels' instruction mix (validation/instruction_mix.py reads it),
  memeff_mix_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,smsp__inst_executed.sum,\
smsp__inst_executed_pipe_fma.sum,smsp__inst_executed_pipe_alu.sum,smsp__inst_executed_pipe_xu.sum,\
smsp__inst_executed_op_shared_st.sum,smsp__inst_executed_op_shared_ld.sum,smsp__inst_executed_op_ldsm.sum,\
smsp__inst_executed_op_ldgsts.sum,smsp__inst_executed_op_bar_sync.sum,\
l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,\
smsp__average_warp_latency_issue_stalled_{barrier,short_scoreboard,long_scoreboard,math_pipe_throttle,\
mio_throttle,wait,not_selected}.ratio,sm__warps_active.avg.pct_of_peak_sustained_active,\
sm__cycles_elapsed.avg.per_second -k regex:fmha python3 headdim_kernels.py mem_efficient 64,128

* the same instruction counts for FA2 and cuDNN (validation/instruction_mix.py reads them too), fa_mix_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,smsp__inst_executed.sum,\
smsp__inst_executed_pipe_fma.sum,smsp__inst_executed_pipe_alu.sum,smsp__inst_executed_pipe_xu.sum,\
smsp__issue_active.avg.pct_of_peak_sustained_active,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
sm__cycles_elapsed.avg.per_second -k regex:'flash_fwd|cudnn|sm90' python3 headdim_kernels.py fa2,fa3 64,128
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"fa2": SDPBackend.FLASH_ATTENTION, "fa3": SDPBackend.CUDNN_ATTENTION,
            "mem_efficient": SDPBackend.EFFICIENT_ATTENTION}
labels = sys.argv[1].split(",") if len(sys.argv) > 1 else list(BACKENDS)
dims = [int(d) for d in (sys.argv[2] if len(sys.argv) > 2 else "64,80,96,128,160,192,224,256").split(",")]

for label in labels:
    for d in dims:
        q, k, v = (torch.randn(2, 16, 8192, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        try:
            with sdpa_kernel([BACKENDS[label]]):
                F.scaled_dot_product_attention(q, k, v)
            torch.cuda.synchronize()
            print("ran %s d=%d" % (label, d), file=sys.stderr)
        except Exception as e:  # noqa: BLE001 - a backend may refuse a head dim
            print("skipped %s d=%d: %s" % (label, d, str(e).splitlines()[0][:120]), file=sys.stderr)
