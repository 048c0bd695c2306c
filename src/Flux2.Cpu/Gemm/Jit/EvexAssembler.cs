namespace Flux2.Cpu.Gemm.Jit;

/// <summary>
/// Emits the few x86-64 instructions the bf16 microkernel needs: AVX-512 forms in the EVEX encoding (Intel SDM vol. 2,
/// §2.7) on zmm0–zmm31 with [base + displacement] memory operands, and the general-purpose loop instructions. Only what
/// the kernel uses; the emitted bytes are checked against a disassembler in the tests.
/// </summary>
internal sealed class EvexAssembler
{
    private readonly List<byte> _code = [];

    /// <summary>The general-purpose registers by encoding number.</summary>
    public enum Gpr { Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsp = 4, Rbp = 5, Rsi = 6, Rdi = 7, R8 = 8, R9 = 9 }

    private enum Map { M0F = 1, M0F38 = 2 }
    private enum Prefix { None = 0, P66 = 1, PF3 = 2 }

    public int Position => _code.Count;

    public byte[] ToArray() => [.. _code];

    /// <summary>vpxord zmm, zmm, zmm (zeroes <paramref name="zmm"/>).</summary>
    public void ZeroZmm(int zmm) => EvexRegister(Map.M0F, Prefix.P66, 0xEF, zmm, zmm, zmm);

    /// <summary>vmovups zmm, [base + disp] (disp a multiple of 64).</summary>
    public void LoadZmm(int zmm, Gpr @base, int disp) => EvexMemory(Map.M0F, Prefix.None, 0x10, zmm, vvvv: null, @base, disp, 64, broadcast: false);

    /// <summary>vmovups [base + disp], zmm (disp a multiple of 64).</summary>
    public void StoreZmm(Gpr @base, int disp, int zmm) => EvexMemory(Map.M0F, Prefix.None, 0x11, zmm, vvvv: null, @base, disp, 64, broadcast: false);

    /// <summary>vaddps zmm, zmm, [base + disp]: adds 16 floats from memory.</summary>
    public void AddZmmMemory(int zmm, Gpr @base, int disp) => EvexMemory(Map.M0F, Prefix.None, 0x58, zmm, zmm, @base, disp, 64, broadcast: false);

    /// <summary>vdpbf16ps acc, src, pairs: acc[i] += src.bf16[2i]·pairs.bf16[2i] + src.bf16[2i+1]·pairs.bf16[2i+1].</summary>
    public void DotBf16(int acc, int src, int pairs) => EvexRegister(Map.M0F38, Prefix.PF3, 0x52, acc, src, pairs);

    /// <summary>vpbroadcastd zmm, dword [base + disp]: the dword (a bf16 pair) in every lane (disp a multiple of 4).</summary>
    public void BroadcastDword(int zmm, Gpr @base, int disp) =>
        EvexMemory(Map.M0F38, Prefix.P66, 0x58, zmm, vvvv: null, @base, disp, 4, broadcast: false);

    /// <summary>prefetchw [base + disp8]: fetches the line for writing.</summary>
    public void PrefetchForWrite(Gpr @base, int disp)
    {
        int b = (int)@base;
        if (b >= 8 || b is 4 or 5) throw new NotSupportedException("prefetch bases are rax, rcx, rdx, rbx, rsi or rdi");
        if (disp is < -128 or > 127) throw new NotSupportedException($"displacement {disp} is not a disp8");
        if (disp == 0) Emit(0x0F, 0x0D, ModRm(0, 1, b));
        else Emit(0x0F, 0x0D, ModRm(1, 1, b), unchecked((byte)(sbyte)disp));
    }

    /// <summary>mov r64, r64.</summary>
    public void MoveRegister(Gpr destination, Gpr source)
    {
        Rex(w: true, r: (int)source >= 8, b: (int)destination >= 8);
        Emit(0x89, ModRm(3, (int)source & 7, (int)destination & 7));
    }

    /// <summary>add r64, imm32 (sign-extended).</summary>
    public void AddImmediate(Gpr reg, int value)
    {
        Rex(w: true, r: false, b: (int)reg >= 8);
        Emit(0x81, ModRm(3, 0, (int)reg & 7));
        EmitInt32(value);
    }

    /// <summary>add r64, r64.</summary>
    public void AddRegister(Gpr destination, Gpr source)
    {
        Rex(w: true, r: (int)source >= 8, b: (int)destination >= 8);
        Emit(0x01, ModRm(3, (int)source & 7, (int)destination & 7));
    }

    /// <summary>dec r64.</summary>
    public void Decrement(Gpr reg)
    {
        Rex(w: true, r: false, b: (int)reg >= 8);
        Emit(0xFF, ModRm(3, 1, (int)reg & 7));
    }

    /// <summary>jnz to an earlier position (rel32).</summary>
    public void JumpIfNotZero(int target)
    {
        Emit(0x0F, 0x85);
        EmitInt32(target - (Position + 4));
    }

    public void VZeroUpper() => Emit(0xC5, 0xF8, 0x77);

    public void Return() => Emit(0xC3);

    private void EvexRegister(Map map, Prefix prefix, byte opcode, int reg, int vvvv, int rm)
    {
        Evex(map, prefix, reg, vvvv, rmExtension: rm >> 3, rmHigh: rm >> 4, broadcast: false);
        Emit(opcode, ModRm(3, reg & 7, rm & 7));
    }

    /// <summary>An EVEX instruction with a [base + disp] operand; disp8 is scaled by <paramref name="scale"/> (EVEX's
    /// compressed displacement: 64 for full zmm, 4 for a broadcast dword).</summary>
    private void EvexMemory(Map map, Prefix prefix, byte opcode, int reg, int? vvvv, Gpr @base, int disp, int scale, bool broadcast)
    {
        int b = (int)@base;
        if ((b & 7) == 4) throw new NotSupportedException("rsp/r12 bases need a SIB byte");
        if (disp % scale != 0 || disp / scale is < -128 or > 127) throw new NotSupportedException($"displacement {disp} is not a disp8 × {scale}");
        Evex(map, prefix, reg, vvvv ?? 0, rmExtension: b >> 3, rmHigh: 0, broadcast, vvvvUnused: vvvv == null);
        if (disp == 0 && (b & 7) != 5)
        {
            Emit(opcode, ModRm(0, reg & 7, b & 7));
        }
        else
        {
            Emit(opcode, ModRm(1, reg & 7, b & 7));
            Emit(unchecked((byte)(sbyte)(disp / scale)));
        }
    }

    /// <summary>The 4-byte EVEX prefix for a 512-bit operation without masking; register fields are stored inverted.</summary>
    private void Evex(Map map, Prefix prefix, int reg, int vvvv, int rmExtension, int rmHigh, bool broadcast, bool vvvvUnused = false)
    {
        int r = (reg >> 3) & 1, rHigh = (reg >> 4) & 1;
        int p0 = (r ^ 1) << 7 | ((rmHigh & 1) ^ 1) << 6 | ((rmExtension & 1) ^ 1) << 5 | (rHigh ^ 1) << 4 | (int)map;
        int v = vvvvUnused ? 0 : vvvv;
        int p1 = 0 << 7 | ((~v) & 0xF) << 3 | 1 << 2 | (int)prefix;
        int p2 = 0 << 7 | 2 << 5 | (broadcast ? 1 : 0) << 4 | (((v >> 4) & 1) ^ 1) << 3;
        Emit(0x62, (byte)p0, (byte)p1, (byte)p2);
    }

    private void Rex(bool w, bool r, bool b) => Emit((byte)(0x40 | (w ? 8 : 0) | (r ? 4 : 0) | (b ? 1 : 0)));

    private static byte ModRm(int mod, int reg, int rm) => (byte)(mod << 6 | reg << 3 | rm);

    private void EmitInt32(int value)
    {
        for (int i = 0; i < 4; i++) _code.Add((byte)(value >> (8 * i)));
    }

    private void Emit(params byte[] bytes) => _code.AddRange(bytes);
}
