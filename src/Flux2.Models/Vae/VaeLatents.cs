using Flux2.Core;

namespace Flux2.Models.Vae;

/// <summary>
/// Latent layouts around the VAE (spec §6.3–6.4): 2×2 patchify (channel c·4 + dy·2 + dx) and its inverse, and
/// packing [B, C, h, w] ↔ tokens [B, h·w, C] with token = y·w + x.
/// </summary>
public static class VaeLatents
{
    private const int P = VaeConfig.PatchSize;

    /// <summary>z [B, C, H, W] → [B, 4C, H/2, W/2] with z_p[c·4 + dy·2 + dx, y, x] = z[c, 2y + dy, 2x + dx].</summary>
    public static Tensor Patchify(Tensor z)
    {
        RequireLatent(z, "latent to patchify");
        int b = z.Shape[0], c = z.Shape[1], h = z.Shape[2], w = z.Shape[3];
        if (h % P != 0 || w % P != 0) throw new VaeException($"latent to patchify {z.ShapeText}: height and width must be even");
        var y = Tensor.Zeros(b, c * P * P, h / P, w / P);
        Shuffle(z.AsSpan<float>(), y.AsSpan<float>(), b, c, h, w, patchify: true);
        return y;
    }

    /// <summary>The inverse of <see cref="Patchify"/>: [B, 4C, h, w] → [B, C, 2h, 2w].</summary>
    public static Tensor Unpatchify(Tensor zp)
    {
        RequireLatent(zp, "latent to unpatchify");
        int b = zp.Shape[0], cp = zp.Shape[1], h = zp.Shape[2], w = zp.Shape[3];
        if (cp % (P * P) != 0) throw new VaeException($"latent to unpatchify {zp.ShapeText}: channels must be a multiple of {P * P}");
        var z = Tensor.Zeros(b, cp / (P * P), h * P, w * P);
        Shuffle(z.AsSpan<float>(), zp.AsSpan<float>(), b, cp / (P * P), h * P, w * P, patchify: false);
        return z;
    }

    /// <summary>Moves elements between z [B, C, H, W] and z_p [B, 4C, H/2, W/2] in the direction asked.</summary>
    private static void Shuffle(Span<float> z, Span<float> zp, int b, int c, int h, int w, bool patchify)
    {
        int hp = h / P, wp = w / P;
        for (int n = 0; n < b; n++)
        for (int ch = 0; ch < c; ch++)
        for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++)
        {
            int zi = ((n * c + ch) * h + yy) * w + xx;
            int pc = ch * P * P + (yy % P) * P + xx % P;
            int pi = ((n * c * P * P + pc) * hp + yy / P) * wp + xx / P;
            if (patchify) zp[pi] = z[zi];
            else z[zi] = zp[pi];
        }
    }

    /// <summary>[B, C, h, w] → tokens [B, h·w, C], token = y·w + x.</summary>
    public static Tensor Pack(Tensor z)
    {
        RequireLatent(z, "latent to pack");
        int b = z.Shape[0], c = z.Shape[1], l = z.Shape[2] * z.Shape[3];
        var tokens = Tensor.Zeros(b, l, c);
        var src = z.AsSpan<float>();
        var dst = tokens.AsSpan<float>();
        for (int n = 0; n < b; n++)
        for (int ch = 0; ch < c; ch++)
        for (int t = 0; t < l; t++)
            dst[(n * l + t) * c + ch] = src[(n * c + ch) * l + t];
        return tokens;
    }

    /// <summary>Tokens [B, h·w, C] in row-major order → [B, C, h, w].</summary>
    public static Tensor Unpack(Tensor tokens, int height, int width)
    {
        RequireTokens(tokens);
        if (height < 1 || width < 1 || (long)height * width != tokens.Shape[1])
            throw new VaeException($"latent tokens {tokens.ShapeText} do not fill a {height}x{width} grid");
        var positions = new int[tokens.Shape[1]];
        for (int t = 0; t < positions.Length; t++) positions[t] = t;
        return Scatter(tokens, positions, height, width);
    }

    /// <summary>
    /// Tokens [B, L, C] with ids [B, L, 4] = (t, y, x, l) → [B, C, h, w], each token placed at (y, x) with
    /// h = max y + 1 and w = max x + 1 (diffusers' unpack by ids; row-major ids give <see cref="Unpack"/>).
    /// Every grid position must be covered exactly once, and every batch item must use the same positions.
    /// </summary>
    public static Tensor UnpackWithIds(Tensor tokens, Tensor ids)
    {
        RequireTokens(tokens);
        int b = tokens.Shape[0], l = tokens.Shape[1];
        if (ids.DType != DType.Int64 || ids.Rank != 3 || ids.Shape[0] != b || ids.Shape[1] != l || ids.Shape[2] != 4)
            throw new VaeException($"latent ids must be Int64 [{b}, {l}, 4] to match tokens {tokens.ShapeText}, found {ids.DType} {ids.ShapeText}");
        var id = ids.AsSpan<long>();
        long maxY = 0, maxX = 0;
        for (int t = 0; t < b * l; t++)
        {
            long y = id[t * 4 + 1], x = id[t * 4 + 2];
            if (y < 0 || x < 0 || y >= l || x >= l) throw new VaeException($"latent id {t % l} of batch item {t / l} has position ({y}, {x}) outside the {l}-token grid");
            maxY = Math.Max(maxY, y);
            maxX = Math.Max(maxX, x);
        }
        int height = (int)maxY + 1, width = (int)maxX + 1;
        if ((long)height * width != l) throw new VaeException($"latent ids span a {height}x{width} grid, which {l} tokens do not fill");
        var positions = new int[l];
        var seen = new bool[l];
        for (int t = 0; t < l; t++)
        {
            int p = (int)(id[t * 4 + 1] * width + id[t * 4 + 2]);
            if (seen[p]) throw new VaeException($"latent ids place two tokens at ({id[t * 4 + 1]}, {id[t * 4 + 2]})");
            seen[p] = true;
            positions[t] = p;
        }
        for (int t = l; t < b * l; t++)
            if (id[t * 4 + 1] * width + id[t * 4 + 2] != positions[t % l])
                throw new VaeException($"latent ids of batch item {t / l} differ from those of item 0");
        return Scatter(tokens, positions, height, width);
    }

    private static Tensor Scatter(Tensor tokens, int[] positions, int height, int width)
    {
        int b = tokens.Shape[0], l = tokens.Shape[1], c = tokens.Shape[2];
        var z = Tensor.Zeros(b, c, height, width);
        var src = tokens.AsSpan<float>();
        var dst = z.AsSpan<float>();
        for (int n = 0; n < b; n++)
        for (int t = 0; t < l; t++)
        for (int ch = 0; ch < c; ch++)
            dst[(n * c + ch) * l + positions[t]] = src[(n * l + t) * c + ch];
        return z;
    }

    internal static void RequireLatent(Tensor z, string what)
    {
        if (z.DType != DType.Float32 || z.Rank != 4 || z.Length == 0)
            throw new VaeException($"{what} must be a non-empty Float32 [B, C, h, w] tensor, found {z.DType} {z.ShapeText}");
    }

    private static void RequireTokens(Tensor tokens)
    {
        if (tokens.DType != DType.Float32 || tokens.Rank != 3 || tokens.Length == 0)
            throw new VaeException($"latent tokens must be a non-empty Float32 [B, L, C] tensor, found {tokens.DType} {tokens.ShapeText}");
    }
}
