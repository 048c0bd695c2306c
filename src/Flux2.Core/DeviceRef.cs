using System.Globalization;

namespace Flux2.Core;

public enum DeviceKind
{
    Cpu,
    Gpu,
}

/// <summary>A device a component runs on, as MAX's DeviceRef: a kind plus an index.</summary>
public readonly record struct DeviceRef(DeviceKind Kind, int Id)
{
    public static DeviceRef Cpu(int id = 0) => new(DeviceKind.Cpu, id);
    public static DeviceRef Gpu(int id = 0) => new(DeviceKind.Gpu, id);

    public override string ToString() => Kind == DeviceKind.Cpu ? $"cpu:{Id}" : $"gpu:{Id}";

    /// <summary>Parses a device as users write it: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>gpu:N</c> (also <c>cpu:0</c>).</summary>
    public static bool TryParse(string text, out DeviceRef device)
    {
        device = default;
        var parts = text.Trim().ToLowerInvariant().Split(':');
        if (parts.Length > 2) return false;
        int id = 0;
        if (parts.Length == 2 && !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out id)) return false;
        switch (parts[0])
        {
            case "cpu" when id == 0: device = Cpu(); return true;
            case "cuda" or "gpu": device = Gpu(id); return true;
            default: return false;
        }
    }

    /// <summary>What <see cref="TryParse"/> accepts, for error messages.</summary>
    public const string Syntax = "cpu, cuda or cuda:N";
}
