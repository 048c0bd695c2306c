using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Models.Vae;

/// <summary>
/// Latent layouts around the VAE (spec §6.3–6.4): 2×2 patchify (channel c·4 + dy·2 + dx) and its inverse, and
/// packing [B, C, h, w] ↔ tokens [B, h·w, C] with token = y·w + x. Each returns a new backend tensor.
/// </summary>
public static class VaeLatents
{
    private const int P = VaeConfig.PatchSize;

    /// <summary>z [B, C, H, W] → [B, 4C, H/2, W/2] with z_p[c·4 + dy·2 + dx, y, x] = z[c, 2y + dy, 2x + dx].</summary>
    public static Tensor Patchify(IBackend backend, Tensor z)
    {
        RequireLatent(z, "latent to patchify");
        int b = z.Shape[0], c = z.Shape[1], h = z.Shape[2], w = z.Shape[3];
        if (h % P != 0 || w % P != 0) throw new VaeException($"latent to patchify {z.ShapeText}: height and width must be even");
        var y = backend.Allocate(DType.Float32, b, c * P * P, h / P, w / P);
        backend.Patchify2x2(z, y);
        return y;
    }

    /// <summary>The inverse of <see cref="Patchify"/>: [B, 4C, h, w] → [B, C, 2h, 2w].</summary>
    public static Tensor Unpatchify(IBackend backend, Tensor zp)
    {
        RequireLatent(zp, "latent to unpatchify");
        int b = zp.Shape[0], cp = zp.Shape[1], h = zp.Shape[2], w = zp.Shape[3];
        if (cp % (P * P) != 0) throw new VaeException($"latent to unpatchify {zp.ShapeText}: channels must be a multiple of {P * P}");
        var z = backend.Allocate(DType.Float32, b, cp / (P * P), h * P, w * P);
        backend.Unpatchify2x2(zp, z);
        return z;
    }

    /// <summary>[B, C, h, w] → tokens [B, h·w, C], token = y·w + x.</summary>
    public static Tensor Pack(IBackend backend, Tensor z)
    {
        RequireLatent(z, "latent to pack");
        int b = z.Shape[0], c = z.Shape[1], l = z.Shape[2] * z.Shape[3];
        var tokens = backend.Allocate(DType.Float32, b, l, c);
        using var planes = z.Reshape(b, c, l);
        backend.TransposeLastTwo(planes, tokens);
        return tokens;
    }

    /// <summary>Tokens [B, h·w, C] in row-major order → [B, C, h, w].</summary>
    public static Tensor Unpack(IBackend backend, Tensor tokens, int height, int width)
    {
        RequireTokens(tokens);
        if (height < 1 || width < 1 || (long)height * width != tokens.Shape[1])
            throw new VaeException($"latent tokens {tokens.ShapeText} do not fill a {height}x{width} grid");
        int b = tokens.Shape[0], c = tokens.Shape[2];
        var z = backend.Allocate(DType.Float32, b, c, height, width);
        using var planes = z.Reshape(b, c, height * width);
        backend.TransposeLastTwo(tokens, planes);
        return z;
    }

    /// <summary>
    /// Tokens [B, L, C] with ids (t, y, x, l) per token, Int64 [B, L, 4] on the host → [B, C, h, w], each token placed at
    /// (y, x) with h = max y + 1 and w = max x + 1 (diffusers' unpack by ids; row-major ids give <see cref="Unpack"/>).
    /// Every grid position must be covered exactly once, and every batch item must use the same positions.
    /// </summary>
    public static Tensor UnpackWithIds(IBackend backend, Tensor tokens, long[] ids, int[] idsShape)
    {
        RequireTokens(tokens);
        int b = tokens.Shape[0], l = tokens.Shape[1];
        if (idsShape.Length != 3 || idsShape[0] != b || idsShape[1] != l || idsShape[2] != 4 || ids.Length != (long)b * l * 4)
            throw new VaeException($"latent ids must be Int64 [{b}, {l}, 4] to match tokens {tokens.ShapeText}, found [{string.Join(", ", idsShape)}]");
        long maxY = 0, maxX = 0;
        for (int t = 0; t < b * l; t++)
        {
            long y = ids[t * 4 + 1], x = ids[t * 4 + 2];
            if (y < 0 || x < 0 || y >= l || x >= l) throw new VaeException($"latent id {t % l} of batch item {t / l} has position ({y}, {x}) outside the {l}-token grid");
            maxY = Math.Max(maxY, y);
            maxX = Math.Max(maxX, x);
        }
        int height = (int)maxY + 1, width = (int)maxX + 1;
        if ((long)height * width != l) throw new VaeException($"latent ids span a {height}x{width} grid, which {l} tokens do not fill");
        // sourceRow[p] = the token that lands at grid position p (the same for every batch item).
        var sourceRow = new long[(long)b * l];
        var seen = new bool[l];
        for (int t = 0; t < l; t++)
        {
            int p = (int)(ids[t * 4 + 1] * width + ids[t * 4 + 2]);
            if (seen[p]) throw new VaeException($"latent ids place two tokens at ({ids[t * 4 + 1]}, {ids[t * 4 + 2]})");
            seen[p] = true;
            for (int n = 0; n < b; n++) sourceRow[(long)n * l + p] = (long)n * l + t;
        }
        for (int t = l; t < b * l; t++)
            if (ids[t * 4 + 1] * width + ids[t * 4 + 2] != ids[t % l * 4 + 1] * width + ids[t % l * 4 + 2])
                throw new VaeException($"latent ids of batch item {t / l} differ from those of item 0");
        using var indices = backend.Upload<long>(sourceRow, sourceRow.Length);
        using var ordered = backend.Allocate(DType.Float32, tokens.Shape);
        backend.GatherRows(tokens, indices, ordered);
        return Unpack(backend, ordered, height, width);
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
