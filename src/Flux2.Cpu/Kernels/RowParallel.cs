using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>A kernel that processes one row at a time; rows are independent.</summary>
internal interface IRowKernel
{
    void Row(int row);
}

/// <summary>Runs a row kernel over [0, rows) on the pool in chunks of about <see cref="ElementsPerItem"/> elements,
/// so that small tensors stay on the calling thread and large ones spread over every worker.</summary>
internal static class RowParallel
{
    private const int ElementsPerItem = 16384;

    public static void For<T>(ComputePool pool, int rows, long rowElements, in T kernel) where T : struct, IRowKernel
    {
        int perItem = (int)Math.Clamp(ElementsPerItem / Math.Max(1, rowElements), 1, Math.Max(1, rows));
        pool.For((rows + perItem - 1) / perItem, new Chunk<T> { Kernel = kernel, Rows = rows, PerItem = perItem });
    }

    private struct Chunk<T> : IParallelWork where T : struct, IRowKernel
    {
        public T Kernel;
        public int Rows, PerItem;

        public void Execute(int index)
        {
            int end = Math.Min(Rows, (index + 1) * PerItem);
            for (int r = index * PerItem; r < end; r++) Kernel.Row(r);
        }
    }
}
