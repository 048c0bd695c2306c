namespace Flux2.Core;

/// <summary>Element types of tensors, named as MAX names them. Safetensors spellings are in <see cref="DTypeInfo"/>.</summary>
public enum DType
{
    Float64,
    Float32,
    Float16,
    BFloat16,
    Float8E4M3,
    Float8E5M2,
    /// <summary>Two E2M1 (FP4) codes per byte, as NVFP4 weights store them.</summary>
    Float4E2M1x2,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

public static class DTypeInfo
{
    /// <summary>Bytes per stored element. For <see cref="DType.Float4E2M1x2"/> one element is one byte (two codes).</summary>
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.Float64 or DType.Int64 => 8,
        DType.Float32 or DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 or DType.Int16 => 2,
        DType.Float8E4M3 or DType.Float8E5M2 or DType.Float4E2M1x2 or DType.Int8 or DType.UInt8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float64 or DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Float8E4M3 or DType.Float8E5M2 or DType.Float4E2M1x2;

    /// <summary>The dtype string used in safetensors headers. Packed FP4 is stored as U8 on disk.</summary>
    public static string SafetensorsName(this DType dtype) => dtype switch
    {
        DType.Float64 => "F64",
        DType.Float32 => "F32",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        DType.Float8E4M3 => "F8_E4M3",
        DType.Float8E5M2 => "F8_E5M2",
        DType.Int64 => "I64",
        DType.Int32 => "I32",
        DType.Int16 => "I16",
        DType.Int8 => "I8",
        DType.UInt8 or DType.Float4E2M1x2 => "U8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Parses a safetensors dtype string; returns false for names the format does not define.</summary>
    public static bool TryParseSafetensors(string name, out DType dtype)
    {
        switch (name)
        {
            case "F64": dtype = DType.Float64; return true;
            case "F32": dtype = DType.Float32; return true;
            case "F16": dtype = DType.Float16; return true;
            case "BF16": dtype = DType.BFloat16; return true;
            case "F8_E4M3": dtype = DType.Float8E4M3; return true;
            case "F8_E5M2": dtype = DType.Float8E5M2; return true;
            case "I64": dtype = DType.Int64; return true;
            case "I32": dtype = DType.Int32; return true;
            case "I16": dtype = DType.Int16; return true;
            case "I8": dtype = DType.Int8; return true;
            case "U8": dtype = DType.UInt8; return true;
            case "BOOL": dtype = DType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Maps a MAX/diffusers encoding name ("bfloat16", "float4_e2m1fnx2", ...) to a dtype.</summary>
    public static bool TryParseEncoding(string encoding, out DType dtype)
    {
        switch (encoding)
        {
            case "float32": dtype = DType.Float32; return true;
            case "bfloat16": dtype = DType.BFloat16; return true;
            case "float16": dtype = DType.Float16; return true;
            case "float8_e4m3fn": dtype = DType.Float8E4M3; return true;
            case "float4_e2m1fnx2": dtype = DType.Float4E2M1x2; return true;
            default: dtype = default; return false;
        }
    }
}
