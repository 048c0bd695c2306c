using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cuda.Device;
using Flux2.Cuda.Gemm;
using Flux2.Cuda.Kernels;
using Flux2.Cuda.Native;

namespace Flux2.Cuda;

/// <summary>
/// The CUDA implementation of <see cref="IBackend"/>: device memory from a caching pool, every op queued on one stream in
/// call order, kernels compiled from CUDA C by NVRTC (cached on disk), Linear layers through cuBLASLt. In
/// <see cref="ComputePrecision.BFloat16"/> activations are bf16 and bf16 weights multiply on tensor cores with fp32 sums;
/// in <see cref="ComputePrecision.Float32"/> activations and products are fp32 (no TF32). Ops are implemented in partial
/// files beside this one (CudaBackend.*.cs); ops not written for the GPU yet throw <see cref="CudaUnsupportedOpException"/>
/// naming themselves. Ops of one backend are called from one thread at a time, as the pipelines do.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackend, IDeviceMemoryReport
{
    private const int Threads = 256;

    [ThreadStatic] private static CancellationToken _cancellation;

    private readonly CudaDevice _device;
    private readonly DeviceMemoryPool _pool;
    private readonly Dictionary<string, nint> _kernels = new(StringComparer.Ordinal);
    private readonly List<CudaModule> _modules = [];
    private readonly CublasLtGemm _gemm;
    private readonly uint _maxBlocks;
    private OpProfile? _profile;

    private CudaBackend(CudaDevice device, ComputePrecision precision)
    {
        _device = device;
        Precision = precision;
        ActivationDType = precision == ComputePrecision.BFloat16 ? DType.BFloat16 : DType.Float32;
        _pool = new DeviceMemoryPool(device);
        // Enough blocks of a grid-stride loop to fill every multiprocessor several times over.
        _maxBlocks = (uint)Math.Max(1, device.Multiprocessors) * 32;
        try
        {
            LoadKernels(CubinCache.ForProcess());
            _gemm = new CublasLtGemm(device, _pool);
            _scratchX = new ScratchBuffer(_pool);
            _scratchW = new ScratchBuffer(_pool);
            _scratchY = new ScratchBuffer(_pool);
            _sums = _pool.Rent(2 * sizeof(double));
            _fp8Activation = _pool.Rent(Fp8ActivationBytes);
        }
        catch
        {
            foreach (var module in _modules) module.Dispose();
            _pool.Dispose();
            throw;
        }
    }

    /// <summary>A backend on CUDA device <paramref name="ordinal"/>.</summary>
    /// <exception cref="BackendUnavailableException">when the driver, the device, NVRTC or cuBLASLt is missing (the message names what was searched)</exception>
    /// <exception cref="CudaException">when a CUDA call fails while setting up</exception>
    public static CudaBackend Create(int ordinal, ComputePrecision precision)
    {
        var device = CudaDevice.Open(ordinal);
        try
        {
            NativeLibraries.Load(CudaLibrary.Nvrtc);
            NativeLibraries.Load(CudaLibrary.CublasLt);
            return new CudaBackend(device, precision);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>The device's compute capability, major·10 + minor (90 for an H100).</summary>
    internal int ComputeCapability => _device.ComputeCapability;

    public string Name => $"cuda:{_device.Ordinal} ({_device.Name}, sm_{_device.ComputeCapability}, " +
        $"{(Precision == ComputePrecision.BFloat16 ? "bf16 activations" : "fp32")})";

    public DeviceRef Device => DeviceRef.Gpu(_device.Ordinal);

    public DType ActivationDType { get; }

    public ComputePrecision Precision { get; }

    public Tensor Allocate(DType dtype, params int[] shape)
    {
        Begin();
        var storage = new CudaStorage(_pool, Device, Tensor.BytesFor(dtype, shape));
        try
        {
            CudaDriver.Check(CudaDriver.cuMemsetD8Async(storage.Pointer, 0, (nuint)storage.Bytes, _device.Stream), nameof(CudaDriver.cuMemsetD8Async));
            return Tensor.Create(storage, dtype, shape);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>Queued on the stream; from pageable host memory the driver returns once it has staged the bytes, so the
    /// caller may reuse its buffer at once.</summary>
    public void Upload(ReadOnlySpan<byte> source, Tensor destination)
    {
        if (source.Length != destination.ByteLength)
            throw new ArgumentException($"{source.Length} bytes do not fill {destination.DType} {destination.ShapeText}", nameof(source));
        var pointer = Pointer(destination, nameof(destination));
        Begin();
        fixed (byte* bytes = source)
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(pointer, bytes, (nuint)source.Length, _device.Stream), nameof(CudaDriver.cuMemcpyHtoDAsync_v2));
    }

    public void Download(Tensor source, Span<byte> destination)
    {
        if (destination.Length != source.ByteLength)
            throw new ArgumentException($"{destination.Length} bytes cannot hold {source.DType} {source.ShapeText}", nameof(destination));
        var pointer = Pointer(source, nameof(source));
        Begin();
        fixed (byte* bytes = destination)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync_v2(bytes, pointer, (nuint)destination.Length, _device.Stream), nameof(CudaDriver.cuMemcpyDtoHAsync_v2));
            _device.Synchronize();
        }
    }

    public void Synchronize() => _device.Synchronize();

    /// <summary>This backend's device memory now (the pool's counts) and the device's free and total memory.</summary>
    public DeviceMemoryUse Memory
    {
        get
        {
            _device.MakeCurrent();
            var (free, total) = _device.MemoryInfo();
            return new DeviceMemoryUse(_pool.HeldBytes - _pool.CachedBytes, _pool.CachedBytes, _pool.PeakHeldBytes, (long)free, (long)total);
        }
    }

    /// <summary>Ops only queue work, so each op checks the token as it is called: a cancelled generation stops at its next
    /// op, within milliseconds; work already queued finishes on the device.</summary>
    public IDisposable ObserveCancellation(CancellationToken cancellation)
    {
        var previous = _cancellation;
        _cancellation = cancellation;
        return new CancellationScope(previous);
    }

    /// <summary>Uploads bf16 weights once, as stored, f16 and f32 ones in the exact mode, and FP8 ones for FP8 GEMMs (their
    /// scale after the bytes, see <see cref="Fp8ScalePointer"/>); the others are converted once on the way
    /// (<see cref="WeightExpansion"/>).</summary>
    public LinearWeight LoadLinear(LinearWeight stored)
    {
        if (!stored.IsHostAccessible) throw new ArgumentException($"{stored.Name}: a weight must be loaded from its stored host bytes", nameof(stored));
        if (WeightExpansion.Expands(stored, Precision, _device.ComputeCapability)) return LoadExpanded(stored);
        if (stored.Format is not (WeightFormat.BFloat16 or WeightFormat.Float16 or WeightFormat.Float32 or WeightFormat.Fp8E4M3))
            throw new CudaUnsupportedOpException($"Linear with {stored.Format} weights ({stored.Name})");
        Begin();
        bool fp8 = stored.Format == WeightFormat.Fp8E4M3;
        var storage = WeightStorage(stored, fp8 ? Fp8ScaleOffset(stored) + sizeof(float) : stored.DataBytes);
        try
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(storage.Pointer, (void*)stored.Data, (nuint)stored.DataBytes, _device.Stream),
                nameof(CudaDriver.cuMemcpyHtoDAsync_v2));
            if (fp8)
                CudaDriver.Check(CudaDriver.cuMemsetD32Async(storage.Pointer + (ulong)Fp8ScaleOffset(stored), BitConverter.SingleToUInt32Bits(stored.TensorScale), 1,
                    _device.Stream), nameof(CudaDriver.cuMemsetD32Async));
            return stored.Relocated((nint)storage.Pointer, 0, isHostAccessible: false, storage);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>Device memory for a weight; when the device is full, the error names the weight and says where to look.</summary>
    private CudaStorage WeightStorage(LinearWeight stored, long bytes)
    {
        try
        {
            return new CudaStorage(_pool, Device, bytes);
        }
        catch (CudaException e) when (e.ErrorName == "CUDA_ERROR_OUT_OF_MEMORY")
        {
            var (free, total) = _device.MemoryInfo();
            throw new CudaException($"loading {stored.Name} ({bytes >> 20} MiB)", e.ErrorName, e.Code,
                $"the device has {free >> 20} MiB free of {total >> 20} MiB, this backend holds {_pool.HeldBytes >> 20} MiB; " +
                "`flux2 info --device cuda` lists which models fit");
        }
    }

    /// <summary>A weight converted on the host (<see cref="WeightExpansion"/>) a few MiB of rows at a time, each chunk copied before the next is
    /// decoded into the same buffer.</summary>
    private LinearWeight LoadExpanded(LinearWeight stored)
    {
        var target = WeightExpansion.Target(Precision);
        int n = stored.OutFeatures, k = stored.InFeatures, elementBytes = target == WeightFormat.BFloat16 ? 2 : 4;
        Begin();
        var storage = WeightStorage(stored, (long)n * k * elementBytes);
        try
        {
            int chunkRows = (int)Math.Clamp((16L << 20) / ((long)k * elementBytes), 1, n);
            var chunk = GC.AllocateUninitializedArray<byte>(checked(chunkRows * k * elementBytes), pinned: true);
            var decoded = GC.AllocateUninitializedArray<float>(k, pinned: true);
            fixed (byte* host = chunk)
            fixed (float* row = decoded)
            {
                for (int row0 = 0; row0 < n; row0 += chunkRows)
                {
                    int rows = Math.Min(chunkRows, n - row0);
                    WeightExpansion.ExpandRows(stored, row0, rows, target, host, row);
                    CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(storage.Pointer + (ulong)row0 * (ulong)k * (ulong)elementBytes, host,
                        (nuint)((long)rows * k * elementBytes), _device.Stream), nameof(CudaDriver.cuMemcpyHtoDAsync_v2));
                    _device.Synchronize(); // the chunk buffer is decoded into again next
                }
            }
            return stored.Expanded(target, (nint)storage.Pointer, isHostAccessible: false, storage);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>Starts timing every kernel and cuBLASLt product on the GPU, with events recorded around each: issuing the
    /// ops gets slower, the times are the device's. <see cref="StopProfile"/> returns them.</summary>
    public void StartProfile() => _profile ??= new OpProfile(_device);

    /// <summary>Waits for the profiled ops and returns their GPU times per kernel name or product shape, the longest first;
    /// profiling stops.</summary>
    public IReadOnlyList<GpuOpTime> StopProfile()
    {
        var profile = _profile ?? throw new InvalidOperationException("StopProfile: no profile was started (StartProfile)");
        Begin();
        _profile = null;
        using (profile) return profile.Stop();
    }

    public void Dispose()
    {
        Synchronize();
        _profile?.Dispose();
        _gemm.Dispose();
        _scratchX.Dispose();
        _scratchW.Dispose();
        _scratchY.Dispose();
        _pool.Return(_sums, 2 * sizeof(double));
        _pool.Return(_fp8Activation, Fp8ActivationBytes);
        foreach (var module in _modules) module.Dispose();
        _pool.Dispose();
        _device.Dispose();
    }

    /// <summary>Every entry point starts here: a cancelled caller stops, and the device's context is bound to this thread.</summary>
    private void Begin()
    {
        _cancellation.ThrowIfCancellationRequested();
        _device.MakeCurrent();
    }

    /// <summary>The device address of a tensor's first element; the tensor must be this backend's.</summary>
    private ulong Pointer(Tensor t, string name) =>
        t.Storage is CudaStorage storage && storage.Pool == _pool
            ? storage.Pointer + (ulong)t.ByteOffset
            : throw new ArgumentException($"{name} lives on {t.Device}, not in this backend's memory ({Device})", name);

    /// <summary>The address of element (0, column) of a row-major tensor.</summary>
    private ulong Pointer(Tensor t, int column, string name) => Pointer(t, name) + (ulong)((long)column * t.DType.SizeInBytes());

    /// <summary>The device address of a resident weight; it must have been loaded by this backend.</summary>
    private ulong WeightPointer(LinearWeight weight) =>
        weight.Owner is CudaStorage storage && storage.Pool == _pool
            ? storage.Pointer
            : throw new ArgumentException($"{weight.Name}: the weight was not loaded by this backend (LoadLinear)", nameof(weight));

    private void LoadKernels(CubinCache cache)
    {
        var options = KernelCompiler.Options(_device.ComputeCapability);
        var version = KernelCompiler.Version();
        foreach (var family in KernelCatalog.All)
        {
            var cubin = cache.GetOrCompile(family, version, options, () => KernelCompiler.Compile(family, options));
            var module = new CudaModule(cubin, family.Kernels);
            _modules.Add(module);
            foreach (var (name, function) in module.Functions) _kernels[name] = function;
        }
    }

    /// <summary>Queues a grid-stride kernel over <paramref name="items"/> elements (nothing for none).</summary>
    private void Launch(string kernel, long items, ref KernelArguments arguments)
    {
        if (items <= 0) return;
        uint blocks = (uint)Math.Min((items + Threads - 1) / Threads, _maxBlocks);
        Launch(kernel, blocks, 1, 1, Threads, ref arguments);
    }

    private void Launch(string kernel, uint blocksX, uint blocksY, uint blocksZ, uint threads, ref KernelArguments arguments)
    {
        Begin();
        _profile?.Begin();
        arguments.Launch(_kernels[kernel], kernel, blocksX, blocksY, blocksZ, threads, 0, _device.Stream);
        _profile?.End(kernel);
    }

    /// <summary>One cuBLASLt product (<see cref="CublasLtGemm.Multiply"/>); a profile names it by its types and shape.</summary>
    private void Multiply(in CublasLtGemm.Operands o, int rows, int n, int k, bool accumulate)
    {
        Begin();
        _profile?.Begin();
        _gemm.Multiply(o, rows, n, k, accumulate);
        _profile?.End($"matmul {CublasLt.DataName(o.XType)}·{CublasLt.DataName(o.WType)}→{CublasLt.DataName(o.YType)} {rows}×{n}×{k}{(o.WDepthMajor ? " NN" : "")}");
    }

    private sealed class CancellationScope(CancellationToken previous) : IDisposable
    {
        public void Dispose() => _cancellation = previous;
    }
}
