using SkiaSharp;

namespace ProfileSync.Core.Imaging;

/// <summary>The three square thumbnail sizes SharePoint shows (S, M, L), in pixels.</summary>
public sealed record ThumbnailSizes(int Small, int Medium, int Large)
{
    /// <summary>What Microsoft's PnP sample, Hyperfish and most scripts make: 48, 72 and 200-pixel squares named _SThumb, _MThumb and _LThumb.</summary>
    public static ThumbnailSizes Default { get; } = new(48, 72, 200);

    public static ThumbnailSizes From(IReadOnlyList<int> sizes)
    {
        if (sizes.Count != 3) throw new ArgumentException("Give three sizes: small, medium, large (e.g. 48,72,200).");
        if (sizes.Any(s => s is < 16 or > 648)) throw new ArgumentException("Each thumbnail size must be between 16 and 648 pixels.");
        if (!(sizes[0] <= sizes[1] && sizes[1] <= sizes[2])) throw new ArgumentException("Sizes go small, medium, large, each at least the one before.");
        return new ThumbnailSizes(sizes[0], sizes[1], sizes[2]);
    }
}

/// <summary>The three JPEGs written for one user, each stamped with the Exchange photo identity.</summary>
public sealed record ThumbnailSet(byte[] Small, byte[] Medium, byte[] Large);

public static class ThumbnailMaker
{
    public const int JpegQuality = 90;

    public static ThumbnailSet Make(byte[] photo, PhotoIdentity identity, ThumbnailSizes sizes, ImageLimits limits)
    {
        using var square = PhotoDecoder.DecodeSquare(photo, limits, "Exchange photo", sizes.Large);
        return Make(square, identity, sizes);
    }

    public static ThumbnailSet Make(SKBitmap square, PhotoIdentity identity, ThumbnailSizes sizes) =>
        new(One(square, sizes.Small, identity), One(square, sizes.Medium, identity), One(square, sizes.Large, identity));

    /// <summary>A small unstamped square JPEG of any photo (a report's preview); the same checks on untrusted bytes.</summary>
    public static byte[] Preview(byte[] photo, int side, int quality, ImageLimits limits, string what)
    {
        using var square = PhotoDecoder.DecodeSquare(photo, limits, what, side);
        return SquareJpeg(square, side, quality);
    }

    /// <summary>A square bitmap at the given side (the same pixels when it has that side already), as JPEG.</summary>
    public static byte[] SquareJpeg(SKBitmap square, int side, int quality)
    {
        using var resized = side == square.Width ? null : PhotoDecoder.Resize(square, side, side);
        using var image = SKImage.FromBitmap(resized ?? square);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static byte[] One(SKBitmap square, int side, PhotoIdentity identity) =>
        PhotoStamp.Write(SquareJpeg(square, side, JpegQuality), identity);
}
