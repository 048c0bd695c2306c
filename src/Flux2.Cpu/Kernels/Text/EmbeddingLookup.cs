using Flux2.Core;
using Flux2.Core.Decoding;

namespace Flux2.Cpu.Kernels.Text;

/// <summary>Gathers embedding rows: output[t, :] = table[ids[t], :], decoded from the table's stored format.</summary>
public static unsafe class EmbeddingLookup
{
    public static void Run(LinearWeight table, long* ids, int count, float* output)
    {
        int hidden = table.InFeatures;
        for (int t = 0; t < count; t++)
        {
            long id = ids[t];
            if ((ulong)id >= (ulong)table.OutFeatures)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"{table.Name}: token id outside [0, {table.OutFeatures})");
            WeightRowDecoder.Decode(table, (int)id, 0, hidden, output + (long)t * hidden);
        }
    }
}
