using System.Globalization;

namespace Flux2.Cli;

/// <summary>
/// Parsed arguments of one command: <c>--name value</c>, <c>--flag</c>, short aliases and positionals.
/// Every option a command reads is marked as known; <see cref="EnsureAllUsed"/> then rejects the rest.
/// </summary>
public sealed class CommandArgs
{
    private readonly List<string> _positionals = [];
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flagsSeen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <param name="flagNames">long names (without --) that take no value</param>
    /// <param name="aliases">short alias → long name, e.g. "-p" → "prompt"</param>
    public CommandArgs(IReadOnlyList<string> args, IReadOnlySet<string> flagNames, IReadOnlyDictionary<string, string>? aliases = null)
    {
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string? name = null;
            string? inlineValue = null;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                name = a[2..];
                int eq = name.IndexOf('=');
                if (eq >= 0) { inlineValue = name[(eq + 1)..]; name = name[..eq]; }
            }
            else if (a.StartsWith('-') && a.Length > 1 && !char.IsDigit(a[1]) && a[1] != '.')
            {
                if (aliases == null || !aliases.TryGetValue(a, out name)) throw new CliException($"unknown option '{a}'");
            }
            if (name == null)
            {
                _positionals.Add(a);
                continue;
            }
            if (flagNames.Contains(name))
            {
                if (inlineValue != null) throw new CliException($"option --{name} takes no value");
                _flagsSeen.Add(name);
                continue;
            }
            string value;
            if (inlineValue != null) value = inlineValue;
            else if (i + 1 < args.Count) value = args[++i];
            else throw new CliException($"option --{name} needs a value");
            if (!_options.TryGetValue(name, out var list)) _options[name] = list = [];
            list.Add(value);
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Flag(string name)
    {
        _used.Add(name);
        return _flagsSeen.Contains(name);
    }

    public string? Optional(string name)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out var list)) return null;
        if (list.Count > 1) throw new CliException($"option --{name} given {list.Count} times");
        return list[0];
    }

    public IReadOnlyList<string> Many(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var list) ? list : [];
    }

    public string Required(string name) => Optional(name) ?? throw new CliException($"missing required option --{name}");

    public int? OptionalInt(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = Optional(name);
        if (s == null) return null;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new CliException($"option --{name}: '{s}' is not an integer");
        if (v < min || v > max) throw new CliException($"option --{name}: {v} is outside [{min}, {max}]");
        return v;
    }

    public double? OptionalDouble(string name)
    {
        var s = Optional(name);
        if (s == null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new CliException($"option --{name}: '{s}' is not a finite number");
        return v;
    }

    /// <summary>Rejects options the command never asked about, and positionals beyond <paramref name="maxPositionals"/>.</summary>
    public void EnsureAllUsed(int maxPositionals)
    {
        foreach (var name in _options.Keys.Concat(_flagsSeen))
            if (!_used.Contains(name)) throw new CliException($"unknown option '--{name}'");
        if (_positionals.Count > maxPositionals)
            throw new CliException($"unexpected argument '{_positionals[maxPositionals]}'");
    }
}
