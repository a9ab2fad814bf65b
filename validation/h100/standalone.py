"""Build-and-run helpers for the standalone CUDA microbenchmarks in microbench/ (one .cu each, a
main() that prints JSON lines), shared by the scripts that drive them on the GPU machine."""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def build(out, name):
    """nvcc microbench/NAME.cu into OUT/NAME; returns the executable's path."""
    exe = os.path.join(out, name)
    subprocess.run(["nvcc", "-O3", "-arch=sm_90", "-o", exe, os.path.join(HERE, "microbench", name + ".cu")],
                   check=True)
    return exe


def write_gpu_info(path):
    """The GPU's name, driver and clocks (nvidia-smi) beside the data."""
    gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm,uuid", "--format=csv"],
                         capture_output=True, text=True).stdout
    with open(path, "w") as f:
        f.write(gpu)
