using SkiaSharp;

namespace ProfileSync.Core.Imaging;

/// <summary>
/// A perceptual fingerprint of a square photo: its colours at 32x32, compared block by block.
///
/// Why this and not an average/DCT hash: a 64-bit hash calls two portraits with the same framing
/// "similar" too easily. Here the distance is the root-mean-square colour difference (0-255 scale)
/// of the worst of 16 blocks (8x8 pixels each), so a change confined to part of the photo (new
/// glasses, another shirt) still counts in full, while resizing and JPEG re-encoding, which spread
/// small errors evenly, stay far below the threshold. Threshold and margins: docs/ARCHITECTURE.md.
/// </summary>
public sealed class PhotoFingerprint
{
    public const int Side = 32;
    private const int BlockSide = 8;

    /// <summary>Distances at or below this are the same photo. Measured: re-encodes and resizes stay under 5; similar-but-different photos start above 14.</summary>
    public const double SamePhotoThreshold = 9.0;

    private readonly byte[] _rgb;

    private PhotoFingerprint(byte[] rgb) => _rgb = rgb;

    public static PhotoFingerprint Of(SKBitmap square)
    {
        using var small = PhotoDecoder.Resize(square, Side, Side);
        var rgb = new byte[Side * Side * 3];
        var i = 0;
        for (var y = 0; y < Side; y++)
        for (var x = 0; x < Side; x++)
        {
            var c = small.GetPixel(x, y);
            rgb[i++] = c.Red;
            rgb[i++] = c.Green;
            rgb[i++] = c.Blue;
        }
        return new PhotoFingerprint(rgb);
    }

    public static PhotoFingerprint Of(byte[] photo, ImageLimits limits, string what)
    {
        using var square = PhotoDecoder.DecodeSquare(photo, limits, what);
        return Of(square);
    }

    /// <summary>Largest per-block RMS colour difference, 0 (identical) to 255.</summary>
    public double DistanceTo(PhotoFingerprint other)
    {
        double worst = 0;
        for (var by = 0; by < Side; by += BlockSide)
        for (var bx = 0; bx < Side; bx += BlockSide)
        {
            double sum = 0;
            for (var y = by; y < by + BlockSide; y++)
            for (var x = bx; x < bx + BlockSide; x++)
            {
                var i = (y * Side + x) * 3;
                for (var ch = 0; ch < 3; ch++)
                {
                    double d = _rgb[i + ch] - other._rgb[i + ch];
                    sum += d * d;
                }
            }
            worst = Math.Max(worst, Math.Sqrt(sum / (BlockSide * BlockSide * 3)));
        }
        return Math.Round(worst, 2);
    }
}
