using Flux2.Pipelines;

namespace Flux2.Cli;

/// <summary>
/// Shows denoising progress on the error stream: a bar redrawn in place (step i/N, s/step, ETA) when it is a
/// terminal, one plain line per step when it is redirected to a file or pipe.
/// </summary>
public sealed class ProgressReporter(TextWriter error, bool interactive)
{
    private const int BarWidth = 30;

    /// <summary>True when <paramref name="error"/> is the process's own stderr and that is a terminal.</summary>
    public static bool IsTerminal(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

    public void OnStep(DenoiseStep step)
    {
        double perStep = step.Elapsed.TotalSeconds / step.Step;
        // The images after this one's batch (batches start at multiples of its size) come in batches of the same size.
        int batchEnd = (step.Image / step.BatchSize + 1) * step.BatchSize;
        int laterBatches = (Math.Max(0, step.Images - batchEnd) + step.BatchSize - 1) / step.BatchSize;
        int remainingSteps = (step.Steps - step.Step) + laterBatches * step.Steps;
        var eta = TimeSpan.FromSeconds(perStep * remainingSteps);
        string image = step.Images > 1 ? $"image {step.Image + 1}/{step.Images} " : "";
        string numbers = $"{image}step {step.Step}/{step.Steps}  {perStep:0.00} s/step  ETA {Format(eta)}";
        if (interactive)
        {
            int filled = (int)Math.Round(BarWidth * (double)step.Step / step.Steps);
            error.Write($"\r[{new string('#', filled)}{new string('.', BarWidth - filled)}] {numbers}   ");
            if (step.Step == step.Steps) error.WriteLine();
        }
        else
        {
            error.WriteLine(numbers);
        }
        error.Flush();
    }

    /// <summary>Ends a bar interrupted mid-line (cancellation, error) so the next message starts on its own line.</summary>
    public void Interrupt(DenoiseStep? last)
    {
        if (interactive && last != null && last.Step != last.Steps) error.WriteLine();
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss");
}
