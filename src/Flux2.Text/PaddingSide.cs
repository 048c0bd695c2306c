namespace Flux2.Text;

/// <summary>Where pad tokens go when a prompt is shorter than the text encoder's fixed length.</summary>
public enum PaddingSide
{
    Right,
    Left,
}
