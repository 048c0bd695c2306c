"""Same-visit yardsticks for the CUDA benchmark: PyTorch's bf16 matmul (cuBLAS) at the klein-4B transformer's Linear
shapes and PyTorch's flash SDPA at the 1024² step's attention shape. Timed with CUDA events after warm-up, median of 20.
Prints one 'YARDSTICK name: ms, TFLOP/s' line per case; prints why and exits 0 when torch or a GPU is missing."""
import statistics
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"YARDSTICK none: no torch ({e})")
    sys.exit(0)
if not torch.cuda.is_available():
    print("YARDSTICK none: torch sees no GPU")
    sys.exit(0)

# (K, N) of the step's Linears: double-block qkv, single-block fused qkv + MLP in,
# single-block output (attention + MLP), double-block MLP out; M = image + 512 text tokens at 512² and 1024².
SHAPES = [(3072, 9216), (3072, 27648), (12288, 3072), (9216, 3072)]
ROWS = [1536, 5120]


def timed_ms(fn, reps=20):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


print(f"YARDSTICK torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
for m in ROWS:
    for k, n in SHAPES:
        x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16) / k ** 0.5
        ms = timed_ms(lambda: F.linear(x, w))
        print(f"YARDSTICK torch bf16 linear M={m} K={k} N={n}: {ms:.3f} ms, {2 * m * k * n / ms * 1e-9:.0f} TFLOP/s")

heads, dim = 24, 128
for length in [1536, 5120]:
    q, k, v = (torch.randn(1, heads, length, dim, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
        ms = timed_ms(lambda: F.scaled_dot_product_attention(q, k, v))
    print(f"YARDSTICK torch sdpa flash bf16 L={length} H={heads} D={dim}: {ms:.3f} ms, {4 * heads * length * length * dim / ms * 1e-9:.0f} TFLOP/s")
