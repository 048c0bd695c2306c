"""Same-visit PyTorch yardsticks for the CUDA benchmark, in eager PyTorch with SDPA (what the diffusers reference stack
runs), with random weights of the real shapes (the real ones cannot reach the device):
- cuBLAS bf16 matmul at the klein-4B transformer's Linear shapes and flash SDPA at the step's attention shapes;
- every stage of a klein-4B image, written in plain torch: the Qwen3-4B text encoder (27 layers, 512 tokens), one
  denoising step of the transformer and the VAE decoder, at 512² and 1024², and their sum for a 4-step image.
Timed with CUDA events after warm-up (median). Prints one 'YARDSTICK name: ...' line per case and a
'YARDSTICK name: failed (error)' line for a case that fails; prints why and exits 0 when torch or a GPU is missing.
Importing the module runs nothing: the stage functions take their sizes, device and dtype, so they also run on a CPU."""
import math
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as _error:
    torch = None
    _TORCH_MISSING = _error

# Published configurations (Flux2Config.Klein4B, TextEncoderConfig.Qwen3_4B, VaeConfig in src/Flux2.Models).
QWEN3_4B = dict(name="qwen3-4B", hidden=2560, heads=32, kv_heads=8, head_dim=128, intermediate=9728, vocab=151936,
                eps=1e-6, theta=1e6, stacked=(9, 18, 27))  # FLUX.2 stops after the last stacked layer (27 of 36)
KLEIN_4B = dict(name="klein-4B", heads=24, head_dim=128, double=5, single=20, mlp_ratio=3, context=7680,
                in_channels=128, axes=(32, 32, 32, 32), theta=2000.0, eps=1e-6, time_channels=256)
VAE = dict(latent=32, channels=(128, 256, 512, 512), layers_per_block=2, groups=32, eps=1e-6)
TEXT_LEN = 512  # the transformer always sees 512 text tokens, and the encoder always runs 512
SIZES = (512, 1024)
STEPS = 4  # klein-4B is distilled to 4 steps


def failed(name, error):
    text = (str(error).strip().splitlines() or [""])[0][:200]
    print(f"YARDSTICK {name}: failed ({type(error).__name__}: {text})", flush=True)


def timed_ms(fn, warmup=3, reps=20):
    """Median milliseconds of fn(): CUDA events on a GPU (they time until the GPU has finished), else the wall clock."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if torch.cuda.is_available():
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def free_memory():
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def weight(shape, device, dtype):
    """Random Linear/conv weight [out, in, ...] scaled by 1/sqrt(fan in), so activations keep unit size and stay finite."""
    fan_in = math.prod(shape[1:])
    return torch.randn(*shape, device=device, dtype=dtype).mul_(fan_in ** -0.5)


def ones(n, device, dtype):
    return torch.ones(n, device=device, dtype=dtype)


def rms_norm(x, w, eps):
    # As HF's Qwen3RMSNorm and diffusers' RMSNorm: normalise in fp32, cast back, then scale.
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def sdpa(q, k, v, is_causal=False):
    """F.scaled_dot_product_attention, or on a torch before 2.0 (Debian bookworm's 1.13, the CPU yardsticks) the same
    softmax(q·kᵀ/√d)·v written out, as torch's math backend computes it."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5
    if is_causal:
        length = q.shape[-2]
        scores = scores.masked_fill(torch.ones(length, length, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def sdpa_grouped(q, k, v, causal):
    """SDPA with fewer kv heads than query heads: enable_gqa where torch has it (2.5+), else kv heads repeated."""
    if q.shape[1] != k.shape[1]:
        try:
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
        except (AttributeError, TypeError, RuntimeError):  # no SDPA, no enable_gqa argument, or no kernel for it
            b, kv_heads, length, hd = k.shape  # kv head j serves query heads j·g … j·g + g − 1
            k, v = (t[:, :, None].expand(b, kv_heads, q.shape[1] // kv_heads, length, hd).reshape(b, q.shape[1], length, hd)
                    for t in (k, v))
    return sdpa(q, k, v, is_causal=causal)


# ---- Text encoder: Qwen3's decoder layers up to the last stacked hidden state --------------------------------------

def text_encoder_weights(cfg, device, dtype):
    d, hd, inter = cfg["hidden"], cfg["head_dim"], cfg["intermediate"]
    q_out, kv_out = cfg["heads"] * hd, cfg["kv_heads"] * hd
    layers = [dict(in_norm=ones(d, device, dtype), q=weight((q_out, d), device, dtype),
                   k=weight((kv_out, d), device, dtype), v=weight((kv_out, d), device, dtype),
                   q_norm=ones(hd, device, dtype), k_norm=ones(hd, device, dtype), o=weight((d, q_out), device, dtype),
                   post_norm=ones(d, device, dtype), gate=weight((inter, d), device, dtype),
                   up=weight((inter, d), device, dtype), down=weight((d, inter), device, dtype))
              for _ in range(max(cfg["stacked"]))]
    # The embedding table is a lookup, not a Linear: unit-size rows.
    return dict(embed=torch.randn(cfg["vocab"], d, device=device, dtype=dtype), layers=layers)


def rotate_half_tables(length, cfg, device, dtype):
    """The LLM's rotate-half RoPE: cos/sin [L, head_dim] (the 64 frequencies twice), built in fp32 as HF does."""
    hd = cfg["head_dim"]
    inv_freq = cfg["theta"] ** -(torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd)
    angles = torch.arange(length, device=device, dtype=torch.float32)[:, None] * inv_freq[None]
    angles = torch.cat([angles, angles], -1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rope_rotate_half(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


def qwen3_layer(x, w, cfg, cos, sin):
    b, length, _ = x.shape
    hd, eps = cfg["head_dim"], cfg["eps"]
    n = rms_norm(x, w["in_norm"], eps)
    # q_norm/k_norm per head before RoPE (Qwen3); [B, L, heads, 128] → [B, heads, L, 128] for SDPA.
    q = rms_norm(F.linear(n, w["q"]).view(b, length, -1, hd), w["q_norm"], eps).transpose(1, 2)
    k = rms_norm(F.linear(n, w["k"]).view(b, length, -1, hd), w["k_norm"], eps).transpose(1, 2)
    v = F.linear(n, w["v"]).view(b, length, -1, hd).transpose(1, 2)
    # Causal only: HF also masks klein's right-padding keys, with an explicit mask (another SDPA kernel); at L=512 the
    # attention is a small part of the layer either way.
    a = sdpa_grouped(rope_rotate_half(q, cos, sin), rope_rotate_half(k, cos, sin), v, causal=True)
    x = x + F.linear(a.transpose(1, 2).reshape(b, length, -1), w["o"])
    n = rms_norm(x, w["post_norm"], eps)
    return x + F.linear(F.silu(F.linear(n, w["gate"])) * F.linear(n, w["up"]), w["down"])


def text_encoder_forward(w, cfg, tokens):
    """tokens [B, L] → the stacked hidden states [B, L, 3·hidden] the transformer reads (layer-major)."""
    x = w["embed"][tokens]
    cos, sin = rotate_half_tables(tokens.shape[1], cfg, x.device, x.dtype)
    kept = {}
    for i, layer in enumerate(w["layers"], start=1):
        x = qwen3_layer(x, layer, cfg, cos, sin)
        if i in cfg["stacked"]:
            kept[i] = x
    return torch.cat([kept[i] for i in cfg["stacked"]], -1)


def text_encoder_yardstick(cfg, length, device, dtype, warmup=2, reps=5):
    w = text_encoder_weights(cfg, device, dtype)
    tokens = torch.randint(0, cfg["vocab"], (1, length), device=device)
    with torch.inference_mode():
        ms = timed_ms(lambda: text_encoder_forward(w, cfg, tokens), warmup, reps)
    print(f"YARDSTICK torch text encoder {cfg['name']} {max(cfg['stacked'])} layers L={length}: {ms:.1f} ms", flush=True)
    return ms


# ---- Transformer: one denoising step (spec §3) --------------------------------------------------------------------

def transformer_weights(cfg, device, dtype):
    d = cfg["heads"] * cfg["head_dim"]
    m = d * cfg["mlp_ratio"]
    hd = cfg["head_dim"]

    def lin(n_out, n_in):
        return weight((n_out, n_in), device, dtype)

    def stream():  # one stream of a double block; separate q/k/v Linears, as diffusers loads them
        return dict(q=lin(d, d), k=lin(d, d), v=lin(d, d), q_norm=ones(hd, device, dtype), k_norm=ones(hd, device, dtype),
                    out=lin(d, d), mlp_in=lin(2 * m, d), mlp_out=lin(d, m))

    return dict(
        x_in=lin(d, cfg["in_channels"]), ctx_in=lin(d, cfg["context"]),
        time_1=lin(d, cfg["time_channels"]), time_2=lin(d, d),
        mod_img=lin(6 * d, d), mod_txt=lin(6 * d, d), mod_single=lin(3 * d, d),
        double=[dict(img=stream(), txt=stream()) for _ in range(cfg["double"])],
        single=[dict(qkv_mlp=lin(3 * d + 2 * m, d), q_norm=ones(hd, device, dtype), k_norm=ones(hd, device, dtype),
                     out=lin(d, d + m)) for _ in range(cfg["single"])],
        norm_out=lin(2 * d, d), proj_out=lin(cfg["in_channels"], d))


def timestep_sinusoid(t, channels):
    """[B] → [B, channels] in fp32: cos first, frequency exponent divided by channels/2 (spec §3.2)."""
    half = channels // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.cos(), angles.sin()], -1)


def position_ids(text_len, grid_h, grid_w, device):
    """(t, h, w, l) per token, text first: text (0, 0, 0, i), image (0, y, x, 0)."""
    txt = torch.zeros(text_len, 4, dtype=torch.int64, device=device)
    txt[:, 3] = torch.arange(text_len, device=device)
    y, x = torch.meshgrid(torch.arange(grid_h, device=device), torch.arange(grid_w, device=device), indexing="ij")
    img = torch.zeros(grid_h * grid_w, 4, dtype=torch.int64, device=device)
    img[:, 1], img[:, 2] = y.reshape(-1), x.reshape(-1)
    return torch.cat([txt, img])


def pair_rope_tables(ids, cfg):
    """FLUX.2 RoPE: cos/sin [L, head_dim/2], one angle per adjacent pair; axis a owns axes[a]/2 pairs; float64 → fp32."""
    angles = []
    for axis, dims in enumerate(cfg["axes"]):
        omega = cfg["theta"] ** -(torch.arange(0, dims, 2, device=ids.device, dtype=torch.float64) / dims)
        angles.append(ids[:, axis].double()[:, None] * omega[None])
    angles = torch.cat(angles, -1)
    return angles.cos().float(), angles.sin().float()


def rope_pairs(x, cos, sin):
    """Rotates the adjacent pairs (2P, 2P+1) of x [B, H, L, Dh] in fp32 (not rotate-half)."""
    pairs = x.float().reshape(*x.shape[:-1], -1, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2).to(x.dtype)


def layer_norm(x, eps):
    return F.layer_norm(x, x.shape[-1:], eps=eps)  # no affine parameters


def modulate(x, shift, scale, eps):
    return layer_norm(x, eps) * (1 + scale) + shift


def attention(q, k, v, cos, sin):
    """q, k, v [B, L, H, Dh] (q, k already RMS-normed) → [B, L, H·Dh]: RoPE, then SDPA with no mask."""
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    o = sdpa(rope_pairs(q, cos, sin), rope_pairs(k, cos, sin), v)
    return o.transpose(1, 2).flatten(2)


def double_block(img, txt, w, mod_img, mod_txt, cos, sin, cfg):
    hd, eps = cfg["head_dim"], cfg["eps"]
    qkv = {}
    for name, x, mod in (("txt", txt, mod_txt), ("img", img, mod_img)):
        s = w[name]
        a = modulate(x, mod[0], mod[1], eps)
        b, length, _ = a.shape
        qkv[name] = (rms_norm(F.linear(a, s["q"]).view(b, length, -1, hd), s["q_norm"], eps),
                     rms_norm(F.linear(a, s["k"]).view(b, length, -1, hd), s["k_norm"], eps),
                     F.linear(a, s["v"]).view(b, length, -1, hd))
    # Joint attention over [text; image] tokens.
    o = attention(*(torch.cat([qkv["txt"][i], qkv["img"][i]], 1) for i in range(3)), cos, sin)
    text_len = txt.shape[1]
    out = {}
    for name, x, mod, o_part in (("txt", txt, mod_txt, o[:, :text_len]), ("img", img, mod_img, o[:, text_len:])):
        s = w[name]
        x = x + mod[2] * F.linear(o_part, s["out"])
        gate, up = F.linear(modulate(x, mod[3], mod[4], eps), s["mlp_in"]).chunk(2, -1)  # SwiGLU: gate first
        out[name] = x + mod[5] * F.linear(F.silu(gate) * up, s["mlp_out"])
    return out["img"], out["txt"]


def single_block(h, w, mod, cos, sin, cfg):
    hd, eps = cfg["head_dim"], cfg["eps"]
    d = cfg["heads"] * hd
    m = d * cfg["mlp_ratio"]
    b, length, _ = h.shape
    # One fused Linear: [q | k | v | gate | up].
    q, k, v, gate, up = F.linear(modulate(h, mod[0], mod[1], eps), w["qkv_mlp"]).split([d, d, d, m, m], -1)
    a = attention(rms_norm(q.reshape(b, length, -1, hd), w["q_norm"], eps),
                  rms_norm(k.reshape(b, length, -1, hd), w["k_norm"], eps), v.reshape(b, length, -1, hd), cos, sin)
    return h + mod[2] * F.linear(torch.cat([a, F.silu(gate) * up], -1), w["out"])


def transformer_forward(w, cfg, x, context, sigma, ids):
    """x [B, L_img, 128], context [B, L_txt, context], sigma [B], ids [L_txt + L_img, 4] → velocity [B, L_img, 128]."""
    eps = cfg["eps"]
    temb = timestep_sinusoid(1000 * sigma, cfg["time_channels"]).to(x.dtype)
    temb = F.linear(F.silu(F.linear(temb, w["time_1"])), w["time_2"])
    s = F.silu(temb)
    # Shared modulation, computed once: chunks (shift, scale, gate) broadcast over the tokens.
    mod_img = F.linear(s, w["mod_img"])[:, None].chunk(6, -1)
    mod_txt = F.linear(s, w["mod_txt"])[:, None].chunk(6, -1)
    mod_single = F.linear(s, w["mod_single"])[:, None].chunk(3, -1)
    cos, sin = pair_rope_tables(ids, cfg)  # diffusers builds the table in every forward
    img, txt = F.linear(x, w["x_in"]), F.linear(context, w["ctx_in"])
    for block in w["double"]:
        img, txt = double_block(img, txt, block, mod_img, mod_txt, cos, sin, cfg)
    h = torch.cat([txt, img], 1)
    for block in w["single"]:
        h = single_block(h, block, mod_single, cos, sin, cfg)
    scale, shift = F.linear(s, w["norm_out"])[:, None].chunk(2, -1)
    return F.linear(modulate(h[:, txt.shape[1]:], shift, scale, eps), w["proj_out"])


def step_yardstick(cfg, sizes, text_len, device, dtype, warmup=2, reps=5):
    """Milliseconds of one denoising step (transformer + Euler update) per output size in pixels."""
    w = transformer_weights(cfg, device, dtype)
    context = torch.randn(1, text_len, cfg["context"], device=device, dtype=dtype)
    sigma = torch.full((1,), 0.9, device=device, dtype=torch.float32)
    results = {}
    for size in sizes:
        name = f"torch step {cfg['name']} {size}x{size}"
        try:
            grid = size // 16  # 8× VAE, then 2×2 patches
            x = torch.randn(1, grid * grid, cfg["in_channels"], device=device, dtype=dtype)
            ids = position_ids(text_len, grid, grid, device)
            with torch.inference_mode():
                ms = timed_ms(lambda: x - 0.25 * transformer_forward(w, cfg, x, context, sigma, ids), warmup, reps)
            results[size] = ms
            print(f"YARDSTICK {name}: {ms:.1f} ms ({STEPS} steps: {STEPS * ms:.0f} ms; {grid * grid} image + {text_len} text tokens)",
                  flush=True)
        except Exception as e:
            failed(name, e)
    return results


# ---- VAE decoder (spec §6.2, §6.4) ---------------------------------------------------------------------------------

def vae_weights(cfg, device, dtype):
    def conv(c_out, c_in, k):
        return dict(w=weight((c_out, c_in, k, k), device, dtype), b=torch.zeros(c_out, device=device, dtype=dtype))

    def norm(c):
        return dict(w=ones(c, device, dtype), b=torch.zeros(c, device=device, dtype=dtype))

    def resnet(c_in, c_out):
        r = dict(norm1=norm(c_in), conv1=conv(c_out, c_in, 3), norm2=norm(c_out), conv2=conv(c_out, c_out, 3))
        if c_in != c_out:
            r["shortcut"] = conv(c_out, c_in, 1)
        return r

    ch, latent = cfg["channels"], cfg["latent"]
    top = ch[-1]
    lin = lambda c: dict(w=weight((c, c), device, dtype), b=torch.zeros(c, device=device, dtype=dtype))
    up, c_prev = [], top
    for k, c_out in enumerate(reversed(ch)):  # lowest resolution first
        resnets = [resnet(c_prev if j == 0 else c_out, c_out) for j in range(cfg["layers_per_block"] + 1)]
        up.append(dict(resnets=resnets, upsample=conv(c_out, c_out, 3) if k < len(ch) - 1 else None))
        c_prev = c_out
    return dict(
        bn_mean=torch.zeros(4 * latent, device=device, dtype=dtype), bn_var=ones(4 * latent, device, dtype),
        post_quant=conv(latent, latent, 1), conv_in=conv(top, latent, 3),
        mid=dict(first=resnet(top, top), attn=dict(norm=norm(top), q=lin(top), k=lin(top), v=lin(top), out=lin(top)),
                 second=resnet(top, top)),
        up=up, norm_out=norm(ch[0]), conv_out=conv(3, ch[0], 3))


def group_norm(x, n, cfg, silu):
    y = F.group_norm(x, cfg["groups"], n["w"], n["b"], eps=cfg["eps"])
    return F.silu(y) if silu else y


def conv2d(x, c):
    return F.conv2d(x, c["w"], c["b"], padding=c["w"].shape[-1] // 2)


def vae_resnet(x, r, cfg):
    h = conv2d(group_norm(x, r["norm1"], cfg, True), r["conv1"])
    h = conv2d(group_norm(h, r["norm2"], cfg, True), r["conv2"])
    return (conv2d(x, r["shortcut"]) if "shortcut" in r else x) + h


def vae_attention(x, a, cfg):
    """One head over the H·W positions, C = 512 wide (SDPA's default scale is 1/sqrt(C))."""
    b, c, hh, ww = x.shape
    t = group_norm(x, a["norm"], cfg, False).flatten(2).transpose(1, 2)  # [B, HW, C]
    q, k, v = (F.linear(t, a[n]["w"], a[n]["b"])[:, None] for n in ("q", "k", "v"))
    o = F.linear(sdpa(q, k, v)[:, 0], a["out"]["w"], a["out"]["b"])
    return x + o.transpose(1, 2).reshape(b, c, hh, ww)


def vae_decode(w, cfg, tokens, grid_h, grid_w):
    """Denoised tokens [B, h·w, 4·latent] → unpack, denormalise, unpatchify → decoder → image [B, 3, 16h, 16w]."""
    b = tokens.shape[0]
    z = tokens.transpose(1, 2).reshape(b, -1, grid_h, grid_w)
    z = z * torch.sqrt(w["bn_var"] + 1e-4)[:, None, None] + w["bn_mean"][:, None, None]
    # Channel c·4 + dy·2 + dx of the patchified latent is latent channel c at (2y + dy, 2x + dx).
    z = z.reshape(b, cfg["latent"], 2, 2, grid_h, grid_w).permute(0, 1, 4, 2, 5, 3).reshape(b, cfg["latent"], 2 * grid_h, 2 * grid_w)
    h = conv2d(conv2d(z, w["post_quant"]), w["conv_in"])
    mid = w["mid"]
    h = vae_resnet(vae_attention(vae_resnet(h, mid["first"], cfg), mid["attn"], cfg), mid["second"], cfg)
    for level in w["up"]:
        for r in level["resnets"]:
            h = vae_resnet(h, r, cfg)
        if level["upsample"] is not None:
            h = conv2d(F.interpolate(h, scale_factor=2.0, mode="nearest"), level["upsample"])
    return conv2d(group_norm(h, w["norm_out"], cfg, True), w["conv_out"])


def vae_yardstick(cfg, sizes, device, dtype, warmup=2, reps=5):
    """Milliseconds of one decode per output size in pixels."""
    w = vae_weights(cfg, device, dtype)
    label = "" if dtype == torch.bfloat16 else f" {str(dtype).replace('torch.', '')}"
    results = {}
    for size in sizes:
        name = f"torch vae decode{label} {size}x{size}"
        try:
            grid = size // 16
            tokens = torch.randn(1, grid * grid, 4 * cfg["latent"], device=device, dtype=dtype)
            with torch.inference_mode():
                ms = timed_ms(lambda: vae_decode(w, cfg, tokens, grid, grid), warmup, reps)
            results[size] = ms
            print(f"YARDSTICK {name}: {ms:.1f} ms (latent {2 * grid}x{2 * grid}x{cfg['latent']})", flush=True)
        except Exception as e:
            failed(name, e)
    return results


# ---- The visit's yardsticks ----------------------------------------------------------------------------------------

def kernel_yardsticks():
    # (K, N) of the step's Linears: double-block qkv, single-block fused qkv + MLP in,
    # single-block output (attention + MLP), double-block MLP out; M = image + 512 text tokens at 512² and 1024².
    for m in (1536, 5120):
        for k, n in ((3072, 9216), (3072, 27648), (12288, 3072), (9216, 3072)):
            name = f"torch bf16 linear M={m} K={k} N={n}"
            try:
                x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
                w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16) / k ** 0.5
                ms = timed_ms(lambda: F.linear(x, w))
                print(f"YARDSTICK {name}: {ms:.3f} ms, {2 * m * k * n / ms * 1e-9:.0f} TFLOP/s", flush=True)
            except Exception as e:
                failed(name, e)
    heads, dim = 24, 128
    for length in (1536, 5120):
        name = f"torch sdpa flash bf16 L={length} H={heads} D={dim}"
        try:
            q, k, v = (torch.randn(1, heads, length, dim, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
                ms = timed_ms(lambda: F.scaled_dot_product_attention(q, k, v))
            print(f"YARDSTICK {name}: {ms:.3f} ms, {4 * heads * length * length * dim / ms * 1e-9:.0f} TFLOP/s", flush=True)
        except Exception as e:
            failed(name, e)


def main():
    if torch is None:
        print(f"YARDSTICK none: no torch ({_TORCH_MISSING})")
        return 0
    if not torch.cuda.is_available():
        print("YARDSTICK none: torch sees no GPU")
        return 0
    print(f"YARDSTICK torch {torch.__version__}, {torch.cuda.get_device_name(0)}", flush=True)
    kernel_yardsticks()
    free_memory()

    # Each stage's weights live only inside its function and are released before the next stage.
    device, bf16 = "cuda", torch.bfloat16
    text_ms, step_ms, vae_ms = None, {}, {}
    try:
        text_ms = text_encoder_yardstick(QWEN3_4B, TEXT_LEN, device, bf16)
    except Exception as e:
        failed(f"torch text encoder {QWEN3_4B['name']}", e)
    free_memory()
    try:
        step_ms = step_yardstick(KLEIN_4B, SIZES, TEXT_LEN, device, bf16)
    except Exception as e:
        failed(f"torch step {KLEIN_4B['name']}", e)
    free_memory()
    # diffusers decodes in the pipeline's dtype: bf16 when the pipeline is loaded with torch_dtype=torch.bfloat16 (the
    # VAE's stored f32 weights are cast at load); fp32 only without a torch_dtype. Our engine decodes in fp32 by
    # default, so fp32 is timed too, at 1024² (cuDNN convolutions use TF32 there unless torch is told otherwise).
    try:
        vae_ms = vae_yardstick(VAE, SIZES, device, bf16)
    except Exception as e:
        failed("torch vae decode", e)
    free_memory()
    try:
        vae_yardstick(VAE, (1024,), device, torch.float32)
    except Exception as e:
        failed("torch vae decode float32", e)
    free_memory()

    for size in SIZES:
        name = f"torch {KLEIN_4B['name']} {size}x{size} image (text + {STEPS} steps + decode)"
        parts = dict(text=text_ms, step=step_ms.get(size), decode=vae_ms.get(size))
        missing = [k for k, v in parts.items() if v is None]
        if missing:
            print(f"YARDSTICK {name}: incomplete (no {', '.join(missing)})")
        else:
            total = parts["text"] + STEPS * parts["step"] + parts["decode"]
            print(f"YARDSTICK {name}: {total:.0f} ms (text {parts['text']:.0f} + {STEPS}x{parts['step']:.0f} + decode {parts['decode']:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
