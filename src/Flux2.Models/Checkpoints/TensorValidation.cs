using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Checkpoints;

public enum TensorIssueKind
{
    Missing,
    Unexpected,
    WrongShape,
    WrongDType,
    /// <summary>Present with the right shape and dtype, but unusable (e.g. a quantized weight with a broken scale).</summary>
    Invalid,
}

/// <summary>One difference between a checkpoint and what its component requires.</summary>
public sealed record TensorIssue(TensorIssueKind Kind, string Name, string Detail);

/// <summary>How a component's tensors compare with the tensors it requires: every difference, not just the first.</summary>
public sealed record ValidationReport(int Required, int Present, IReadOnlyList<TensorIssue> Issues)
{
    public bool IsComplete => Issues.Count == 0;

    public IEnumerable<TensorIssue> Of(TensorIssueKind kind) => Issues.Where(i => i.Kind == kind);

    public ValidationReport With(IEnumerable<TensorIssue> more) => this with { Issues = [.. Issues, .. more] };

    /// <param name="tensors">the checkpoint's tensors by the names the requirements use (prefixes already removed)</param>
    /// <param name="ignored">tensors that may be present without being required (e.g. bookkeeping buffers)</param>
    public static ValidationReport Compare(IReadOnlyList<TensorRequirement> requirements, IReadOnlyDictionary<string, TensorInfo> tensors,
        Func<string, bool>? ignored = null)
    {
        var issues = new List<TensorIssue>();
        var required = new HashSet<string>(StringComparer.Ordinal);
        int present = 0;
        foreach (var r in requirements)
        {
            required.Add(r.Name);
            if (!tensors.TryGetValue(r.Name, out var t))
            {
                if (!r.Optional) issues.Add(new(TensorIssueKind.Missing, r.Name, $"expected {r.DTypesText} {r.ShapesText}"));
                continue;
            }
            if (!r.Optional) present++;
            if (!r.DTypes.Contains(t.DType))
                issues.Add(new(TensorIssueKind.WrongDType, r.Name, $"is {t.StoredTypeName}, expected {r.DTypesText}"));
            if (!r.Shapes.Any(s => s.AsSpan().SequenceEqual(t.Shape)))
                issues.Add(new(TensorIssueKind.WrongShape, r.Name, $"has shape {t.ShapeText}, expected {r.ShapesText}"));
        }
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
            if (!required.Contains(name) && ignored?.Invoke(name) != true)
                issues.Add(new(TensorIssueKind.Unexpected, name, $"{tensors[name].StoredTypeName} {tensors[name].ShapeText} is not part of this component"));
        return new ValidationReport(requirements.Count(r => !r.Optional), present, issues);
    }
}
