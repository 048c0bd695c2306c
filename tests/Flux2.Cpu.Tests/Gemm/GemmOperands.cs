using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Numerics;

namespace Flux2.Cpu.Tests.Gemm;

/// <summary>Random GEMM operands: x [m, ldx], y [m, ldy] (padding filled with a sentinel), and W [n, k] stored in
/// the requested format. Values lie in [-1, 1) and W holds exactly representable values of its format.</summary>
internal sealed class GemmOperands
{
    public const float Sentinel = 12345f;

    public float[] X { get; }
    public float[] Y { get; }
    public LinearWeight W { get; }
    public int M { get; }
    public int Ldx { get; }
    public int Ldy { get; }

    public GemmOperands(int m, int n, int k, WeightFormat format, int ldxPad = 0, int ldyPad = 0, int seed = 1)
    {
        var rng = new Random(seed);
        M = m;
        Ldx = k + ldxPad;
        Ldy = n + ldyPad;
        X = new float[Math.Max(1, m * Ldx)];
        for (int i = 0; i < X.Length; i++) X[i] = NextValue(rng);
        Y = new float[Math.Max(1, m * Ldy)];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < Ldy; j++)
            Y[i * Ldy + j] = j < n ? NextValue(rng) : Sentinel;
        W = CreateWeight(n, k, format, rng);
    }

    private static float NextValue(Random rng) => (float)(rng.NextDouble() * 2 - 1);

    private static LinearWeight CreateWeight(int n, int k, WeightFormat format, Random rng)
    {
        Array data = format switch
        {
            WeightFormat.Float32 => Fill(GC.AllocateArray<float>(n * k, pinned: true), () => NextValue(rng)),
            WeightFormat.BFloat16 => Fill(GC.AllocateArray<ushort>(n * k, pinned: true), () => BFloat16Bits.FromFloat(NextValue(rng))),
            WeightFormat.Float16 => Fill(GC.AllocateArray<Half>(n * k, pinned: true), () => (Half)NextValue(rng)),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        nint address = Marshal.UnsafeAddrOfPinnedArrayElement(data, 0);
        return new LinearWeight($"test.{format}", n, k, format, address, owner: data);
    }

    private static T[] Fill<T>(T[] array, Func<T> next)
    {
        for (int i = 0; i < array.Length; i++) array[i] = next();
        return array;
    }
}
