"""CPU yardsticks for the benchmark project's CPU figures: the PyTorch code of tools/device-yardsticks.py run on this
machine's cores, with the threads the benchmark uses (2 by default, --threads N), so that `bench gemm`, `bench attention`
and `bench step` can be put beside PyTorch in one session. PyTorch computes bf16 matmuls with oneDNN and fp32 ones with
the BLAS its build links (Debian's: the system libblas.so.3, OpenBLAS once libopenblas0-pthread is installed).
  - F.linear at the klein-4B step's Linear shapes (M = 1536: 512 text + 1024 image tokens), fp32 and bf16;
  - attention over 24 heads × 128 at L = 768 and 1536 (SDPA, or its math written out on a torch before 2.0), fp32, bf16;
  - one klein-4B denoising step (transformer + Euler update) in bf16 at --sizes (default 256), random weights.
Prints 'YARDSTICK name: ...' lines (wall clock, median after warm-up). Usage: python3 tools/cpu-yardsticks.py
[--threads N] [--sizes 256,512] [--reps N] [--parts linear,attention,step]."""
import argparse
import importlib.util
import os
import sys

_spec = importlib.util.spec_from_file_location("device_yardsticks", os.path.join(os.path.dirname(os.path.abspath(__file__)), "device-yardsticks.py"))
y = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="256")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--parts", default="linear,attention,step")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    torch, F = y.torch, y.F
    if torch is None:
        print(f"YARDSTICK none: no torch ({y._TORCH_MISSING})")
        return 0
    torch.set_num_threads(args.threads)
    print(f"YARDSTICK torch {torch.__version__} on the CPU, {torch.get_num_threads()} threads, oneDNN {torch.backends.mkldnn.is_available()}",
          flush=True)
    m = 1536
    for dtype, label in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")) if "linear" in parts else ():
        for k, n in ((3072, 9216), (3072, 27648), (12288, 3072), (9216, 3072)):
            name = f"torch {label} linear M={m} K={k} N={n}"
            try:
                x = torch.randn(m, k, dtype=dtype)
                w = torch.randn(n, k, dtype=dtype) / k ** 0.5
                ms = y.timed_ms(lambda: F.linear(x, w), warmup=1, reps=args.reps)
                print(f"YARDSTICK {name}: {ms:.1f} ms, {2 * m * k * n / ms * 1e-6:.0f} GFLOP/s", flush=True)
            except Exception as e:
                y.failed(name, e)
    heads, dim = 24, 128
    for dtype, label in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")) if "attention" in parts else ():
        for length in (768, 1536):
            name = f"torch attention {label} L={length} H={heads} D={dim}"
            try:
                q, k, v = (torch.randn(1, heads, length, dim, dtype=dtype) for _ in range(3))
                with torch.inference_mode():
                    ms = y.timed_ms(lambda: y.sdpa(q, k, v), warmup=1, reps=args.reps)
                print(f"YARDSTICK {name}: {ms:.1f} ms, {4 * heads * length * length * dim / ms * 1e-6:.0f} GFLOP/s", flush=True)
            except Exception as e:
                y.failed(name, e)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if "step" in parts else ()
    try:
        y.step_yardstick(y.KLEIN_4B, sizes, y.TEXT_LEN, "cpu", torch.bfloat16, warmup=1, reps=args.reps)
    except Exception as e:
        y.failed(f"torch step {y.KLEIN_4B['name']}", e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
