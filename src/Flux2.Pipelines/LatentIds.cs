namespace Flux2.Pipelines;

/// <summary>The int64 position ids (t, h, w, l) the transformer's 4-axis RoPE reads (spec §9.1, §7.5).</summary>
public static class LatentIds
{
    /// <summary>Reference image k gets t = 10 + 10·k; the noisy image has t = 0.</summary>
    public static long ReferenceTime(int referenceIndex) => 10 + 10L * referenceIndex;

    /// <summary>[gridHeight·gridWidth, 4] ids (t, y, x, 0) in row-major token order (token = y·gridWidth + x).</summary>
    public static long[] Image(int gridHeight, int gridWidth, long t)
    {
        var ids = new long[gridHeight * gridWidth * 4];
        for (int y = 0; y < gridHeight; y++)
            for (int x = 0; x < gridWidth; x++)
            {
                int token = y * gridWidth + x;
                ids[token * 4] = t;
                ids[token * 4 + 1] = y;
                ids[token * 4 + 2] = x;
            }
        return ids;
    }

    /// <summary>[length, 4] ids (0, 0, 0, i), whatever the padding.</summary>
    public static long[] Text(int length)
    {
        var ids = new long[length * 4];
        for (int i = 0; i < length; i++) ids[i * 4 + 3] = i;
        return ids;
    }
}
