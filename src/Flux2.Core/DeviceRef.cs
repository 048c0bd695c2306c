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
}
