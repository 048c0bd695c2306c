using System.Globalization;
using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Lora;

/// <summary>The tensors of one module of a LoRA file by their role, read with the checks every adapter kind shares: float
/// matrices of the expected shape, finite values, one finite alpha.</summary>
internal sealed class LoraModuleTensors(SafeTensorsFile file, LoraModuleTarget target, IReadOnlyDictionary<LoraTensorRole, string> names)
{
    public LoraModuleTarget Target => target;
    public string Path => file.FilePath;
    public string Module => target.Module;

    public bool Has(LoraTensorRole role) => names.ContainsKey(role);

    public IEnumerable<LoraTensorRole> Roles => names.Keys;

    /// <summary>The name of the tensor with <paramref name="role"/>, or an error saying the module lacks it.</summary>
    public string Name(LoraTensorRole role) => names.TryGetValue(role, out var name) ? name
        : throw new LoraException($"{Path}: '{Module}' has {string.Join(" and ", names.Values.Select(n => $"'{n}'"))} but no {Describe(role)}");

    /// <summary>The [rows, columns] matrix with <paramref name="role"/> as floats; null dimensions take any size ≥ 1.</summary>
    /// <param name="what">what the matrix is, for the message ("the down weight of 'x'")</param>
    public (float[] Values, int Rows, int Columns) Matrix(LoraTensorRole role, int? rows, int? columns, string what, string expected)
    {
        var view = FloatTensor(role);
        if (view.Shape.Length != 2 || view.Shape[0] < 1 || view.Shape[1] < 1 || rows is { } r && view.Shape[0] != r || columns is { } c && view.Shape[1] != c)
            throw new LoraException($"{Path}: tensor '{view.Name}': {what} must be {expected}, found {view.Info.ShapeText}");
        return (FiniteValues(view), checked((int)view.Shape[0]), checked((int)view.Shape[1]));
    }

    /// <summary>The module's DoRA magnitudes, one per output row: [out] (PEFT) or [out, 1] (LyCORIS). LyCORIS' older form over
    /// the input columns, [1, in], is refused by name.</summary>
    public float[] Magnitude()
    {
        var view = FloatTensor(LoraTensorRole.Magnitude);
        int outFeatures = target.OutFeatures;
        if (view.Shape is [var n] && n == outFeatures || view.Shape is [var rows, 1] && rows == outFeatures)
            return FiniteValues(view);
        if (view.Shape is [1, var columns] && columns == target.InFeatures)
            throw new LoraException($"{Path}: tensor '{view.Name}': DoRA magnitudes over the layer's input columns [1, {columns}] " +
                $"(LyCORIS' form before April 2025, wd_on_output=False) are not supported, only over its outputs: [{outFeatures}] or [{outFeatures}, 1]");
        throw new LoraException($"{Path}: tensor '{view.Name}': the DoRA magnitudes of '{Module}' must be [{outFeatures}] or [{outFeatures}, 1] " +
            $"(one per output of the layer), found {view.Info.ShapeText}");
    }

    /// <summary>The module's alpha: its <c>.alpha</c> tensor, else PEFT's metadata for it, else null.</summary>
    public double? Alpha(PeftAlphas peftAlphas)
    {
        if (!names.TryGetValue(LoraTensorRole.Alpha, out var alphaName)) return peftAlphas.For(Module);
        var view = file.Get(alphaName);
        var values = view.ToFloat32Array();
        if (values.Length != 1 || !float.IsFinite(values[0]))
            throw new LoraException($"{Path}: tensor '{alphaName}': alpha must be one finite number, found {view.Info.ShapeText} {view.DType.SafetensorsName()}");
        return values[0];
    }

    /// <summary><paramref name="scale"/> as a float, refused when it is not a finite one.</summary>
    public float FiniteScale(double scale, string formula)
    {
        if (!float.IsFinite((float)scale))
            throw new LoraException($"{Path}: '{Module}': {formula} is not a finite float");
        return (float)scale;
    }

    /// <summary>Refuses an update whose factors, multiplied out and scaled by <paramref name="scale"/>, leave the float range
    /// (weights near the float's limit): the side path would run on infinities.</summary>
    /// <param name="what">the factor, for the message ("the scaled up weight")</param>
    public void RequireFinite(ReadOnlySpan<float> values, float scale, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i] * scale))
                throw new LoraException($"{Path}: '{Module}': {what} leaves the float range at element {i} " +
                    $"({values[i].ToString(CultureInfo.InvariantCulture)} · {scale.ToString(CultureInfo.InvariantCulture)}); " +
                    "the weights are too large to apply");
    }

    /// <summary>The tensor with <paramref name="role"/>, refused unless it holds floats.</summary>
    private TensorView FloatTensor(LoraTensorRole role)
    {
        var view = file.Get(Name(role));
        if (view.DType is not (DType.Float32 or DType.BFloat16 or DType.Float16 or DType.Float64))
            throw new LoraException($"{Path}: tensor '{view.Name}': LoRA weights must be F32, BF16, F16 or F64, found {view.DType.SafetensorsName()}");
        return view;
    }

    /// <summary>The tensor's values as floats, refused when one is NaN or infinite (also after an F64 value overflows the
    /// float): it would spread through every product its layer takes part in and leave nothing of the image.</summary>
    private static float[] FiniteValues(TensorView view)
    {
        var values = view.ToFloat32Array();
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0)
        {
            long columns = view.Shape[^1];
            var where = view.Shape.Length == 2 ? $"element {bad} (row {bad / columns}, column {bad % columns})" : $"element {bad}";
            throw new LoraException($"{view.FilePath}: tensor '{view.Name}': {where} " +
                $"is {values[bad].ToString(CultureInfo.InvariantCulture)}; LoRA weights must be finite numbers");
        }
        return values;
    }

    /// <summary>How a message names a role: the pair's halves by their spellings, LyCORIS tensors by their suffix.</summary>
    public static string Describe(LoraTensorRole role) => role switch
    {
        LoraTensorRole.Down => "down weight (lora_A / lora_down)",
        LoraTensorRole.Up => "up weight (lora_B / lora_up)",
        LoraTensorRole.Magnitude => "DoRA magnitude (dora_scale / lora_magnitude_vector)",
        _ => LoraKey.SuffixOf(role)[1..],
    };
}
