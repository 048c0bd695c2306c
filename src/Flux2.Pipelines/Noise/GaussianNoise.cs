namespace Flux2.Pipelines.Noise;

/// <summary>
/// The engine's own N(0, 1) source for initial latents, identical on every run and machine for a given seed:
/// uniform doubles from <see cref="Xoshiro256StarStar"/> seeded with the seed, turned into normal pairs by
/// Marsaglia's polar method (u, v uniform in (−1, 1), s = u² + v² rejected unless 0 &lt; s &lt; 1, then
/// u·f and v·f with f = √(−2·ln s / s)), using <see cref="DeterministicMath.Log"/>. Each pair is rounded to
/// fp32 and written in order; the stream fills a tensor in row-major order, i.e. the [1, 128, H/16, W/16]
/// latent layout of spec §9.2 (channel-major, then rows, then columns).
/// The three reference stacks (BFL, diffusers, MAX) use other generators, so one seed gives different images there.
/// </summary>
public sealed class GaussianNoise
{
    private Xoshiro256StarStar _rng;
    private float _spare;
    private bool _hasSpare;

    public GaussianNoise(ulong seed)
    {
        _rng = new Xoshiro256StarStar(seed);
    }

    public float Next()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u, v, s;
        do
        {
            u = 2.0 * _rng.NextDouble() - 1.0;
            v = 2.0 * _rng.NextDouble() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double f = Math.Sqrt(-2.0 * DeterministicMath.Log(s) / s);
        _spare = (float)(v * f);
        _hasSpare = true;
        return (float)(u * f);
    }

    public void Fill(Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = Next();
    }

    /// <summary>The initial latents of one image: [1, 128, height/16, width/16] drawn from <paramref name="seed"/>.</summary>
    public static float[] Latents(ulong seed, int latentChannels, int gridHeight, int gridWidth)
    {
        var values = new float[checked(latentChannels * gridHeight * gridWidth)];
        new GaussianNoise(seed).Fill(values);
        return values;
    }
}
