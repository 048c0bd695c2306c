namespace Flux2.Pipelines.Images;

/// <summary>A conditioning image as given by the user, before preprocessing; <see cref="Name"/> (usually the file) names it in errors.</summary>
public sealed record ReferenceImage(string Name, RgbImage Image)
{
    public static ReferenceImage FromFile(string path) => new(path, ImageFileReader.Read(path));
}
