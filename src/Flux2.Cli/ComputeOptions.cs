using Flux2.Backends;
using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Cli;

/// <summary><c>--device</c>, <c>--precision</c> and <c>--threads</c>, shared by the commands that compute: where to run and
/// the backends of this build set up for it.</summary>
public sealed record ComputeOptions(DeviceRef Device, IBackendFactory Backends)
{
    /// <param name="backends">makes the factory of this build's backends from the options the user gave</param>
    /// <param name="defaultPrecision">without --precision: null for the backends' fast default, or the one this command needs</param>
    public static ComputeOptions Parse(CommandArgs o, Func<BackendOptions, IBackendFactory> backends, ComputePrecision? defaultPrecision = null)
    {
        var text = o.Optional("device") ?? "cpu";
        if (!DeviceRef.TryParse(text, out var device)) throw new CliException($"option --device: '{text}' is not one of {DeviceRef.Syntax}");
        int? threads = o.OptionalInt("threads", 1, 4096);
        var precision = o.Optional("precision") switch
        {
            null => defaultPrecision,
            "fp32" => ComputePrecision.Float32,
            "bf16" => ComputePrecision.BFloat16,
            var other => throw new CliException($"option --precision: '{other}' is not one of fp32, bf16"),
        };
        return new(device, backends(new BackendOptions { CpuThreads = threads, Precision = precision }));
    }

    /// <summary><c>--text-encoder-device</c> of the commands that run a pipeline: where its text encoder runs; null (not given):
    /// on <c>--device</c>.</summary>
    public static DeviceRef? TextEncoderDevice(CommandArgs o)
    {
        if (o.Optional("text-encoder-device") is not { } text) return null;
        return DeviceRef.TryParse(text, out var device) ? device
            : throw new CliException($"option --text-encoder-device: '{text}' is not one of {DeviceRef.Syntax}");
    }

    /// <summary>The backends of this build, as the <c>flux2</c> executable uses them.</summary>
    public static IBackendFactory BuiltIn(BackendOptions options) => new BackendFactory(options);

    /// <summary>The backend for a lone component (the debug commands); pipelines get theirs through their config.</summary>
    public IBackend CreateBackend() => Backends.Create(Device);
}
