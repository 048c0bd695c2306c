namespace Flux2.Pipelines.Images;

/// <summary>The formats generated images are written in: PNG (lossless), JPEG and WebP (lossy).</summary>
public enum ImageFormat { Png, Jpeg, Webp }
