using SkiaSharp;

namespace ProfileSync.Core.Imaging;

/// <summary>
/// A perceptual fingerprint of a square photo: its colours on an N x N grid, compared in 4 x 4 blocks.
///
/// Why this and not a 64-bit average/DCT hash: such hashes call two portraits with the same framing
/// "similar" too easily. Here the distance is the root-mean-square colour difference (0-255 scale)
/// of the worst of the 16 blocks, so a change confined to part of the photo (glasses, another shirt)
/// counts in full, while resizing and JPEG re-encoding, which spread small errors evenly, stay low.
/// The grid follows the smaller photo's size (side / 6, between 8 and 32 cells): a 48-pixel
/// thumbnail cannot carry 32 x 32 cells of detail, and JPEG's 8 x 8 blocks would read as change.
/// Threshold and the measurements behind it: docs/ARCHITECTURE.md, FingerprintTests.
/// </summary>
public sealed class PhotoFingerprint
{
    public const int MaxGrid = 32;
    public const int MinGrid = 8;
    private const int DecodeCellPixels = 8;

    /// <summary>Distances at or below this are the same photo (see the class comment).</summary>
    public const double SamePhotoThreshold = 10.0;

    private readonly byte[] _rgb;

    private PhotoFingerprint(int grid, byte[] rgb)
    {
        Grid = grid;
        _rgb = rgb;
    }

    public int Grid { get; }

    /// <summary>The grid for comparing two photos whose smaller side is <paramref name="smallerSide"/> pixels.</summary>
    public static int GridFor(int smallerSide) => Math.Clamp(smallerSide / 6 / 4 * 4, MinGrid, MaxGrid);

    public static PhotoFingerprint Of(SKBitmap square, int grid = MaxGrid)
    {
        if (grid % 4 != 0 || grid < 4) throw new ArgumentOutOfRangeException(nameof(grid));
        using var small = PhotoDecoder.Resize(square, grid, grid);
        var rgb = new byte[grid * grid * 3];
        var i = 0;
        for (var y = 0; y < grid; y++)
        for (var x = 0; x < grid; x++)
        {
            var c = small.GetPixel(x, y);
            rgb[i++] = c.Red;
            rgb[i++] = c.Green;
            rgb[i++] = c.Blue;
        }
        return new PhotoFingerprint(grid, rgb);
    }

    /// <summary>Decodes both photos (untrusted bytes) and measures how far apart they are.</summary>
    public static double Distance(byte[] source, byte[] target, ImageLimits limits, string sourceName, string targetName)
    {
        // The grid follows the photos' own sizes (from their headers); each is then decoded no larger
        // than the grid needs (8 pixels a cell), which the mipmapped resize turns into the same cells.
        var grid = GridFor(Math.Min(PhotoDecoder.SquareSide(source, limits, sourceName), PhotoDecoder.SquareSide(target, limits, targetName)));
        return Read(source, limits, sourceName, grid).DistanceTo(Read(target, limits, targetName, grid));
    }

    /// <summary>Decodes one photo (untrusted bytes) no larger than the grid needs and takes its fingerprint.</summary>
    public static PhotoFingerprint Read(byte[] photo, ImageLimits limits, string name, int grid)
    {
        using var square = PhotoDecoder.DecodeSquare(photo, limits, name, grid * DecodeCellPixels);
        return Of(square, grid);
    }

    /// <summary>Largest per-block RMS colour difference, 0 (identical) to 255.</summary>
    public double DistanceTo(PhotoFingerprint other)
    {
        if (other.Grid != Grid) throw new ArgumentException("Fingerprints of different grids cannot be compared.");
        var block = Grid / 4;
        double worst = 0;
        for (var by = 0; by < Grid; by += block)
        for (var bx = 0; bx < Grid; bx += block)
        {
            double sum = 0;
            for (var y = by; y < by + block; y++)
            for (var x = bx; x < bx + block; x++)
            {
                var i = (y * Grid + x) * 3;
                for (var ch = 0; ch < 3; ch++)
                {
                    double d = _rgb[i + ch] - other._rgb[i + ch];
                    sum += d * d;
                }
            }
            worst = Math.Max(worst, Math.Sqrt(sum / (block * block * 3)));
        }
        return Math.Round(worst, 2);
    }
}
