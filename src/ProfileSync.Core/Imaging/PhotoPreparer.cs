using System.Security.Cryptography;

namespace ProfileSync.Core.Imaging;

/// <summary>A photo ready for Exchange: an upright square JPEG within Exchange's limits.</summary>
public sealed record PreparedPhoto(byte[] Jpeg, int Side, string Sha256)
{
    public int Bytes => Jpeg.Length;
}

/// <summary>
/// Turns any image an HR export brings into what Exchange keeps (square sizes up to
/// 648x648, uploads up to 4 MB): the header checked before decoding, EXIF orientation applied, a
/// centre square, scaled down to 648 if larger, written as JPEG. A picture under 48 pixels is refused:
/// it would show as a blur in every client.
/// </summary>
public static class PhotoPreparer
{
    public const int MaxSide = 648;
    public const int MinSide = 48;
    public const long MaxUploadBytes = 4 * 1024 * 1024;

    /// <summary>A new photo (a Set-ProfilePhoto row's file or URL): one it cannot use fails with PhotoSourceUnreadable, the row's own problem, not Exchange's.</summary>
    public static PreparedPhoto Prepare(byte[] source, ImageLimits limits, string what)
    {
        SkiaSharp.SKBitmap square;
        try
        {
            square = PhotoDecoder.DecodeSquare(source, limits, what, MaxSide);
        }
        catch (ProfileSyncException ex) when (ex.ErrorId == ErrorIds.PhotoUnreadable)
        {
            throw new ProfileSyncException(ErrorIds.PhotoSourceUnreadable, FailureKind.InvalidData, ex.Message, ex);
        }
        using var _ = square;
        if (square.Width < MinSide)
            throw new ProfileSyncException(ErrorIds.PhotoSourceUnreadable, FailureKind.InvalidData,
                $"The {what} is {square.Width}x{square.Height} pixels as a square, under the {MinSide} pixels a profile photo needs.");
        var side = Math.Min(MaxSide, square.Width);
        // A 648-pixel JPEG is far below 4 MB at any quality; the loop only guards the limit.
        for (var quality = 90; ; quality -= 15)
        {
            var jpeg = ThumbnailMaker.SquareJpeg(square, side, quality);
            if (jpeg.Length <= MaxUploadBytes || quality <= 30)
                return new PreparedPhoto(jpeg, side, Convert.ToHexString(SHA256.HashData(jpeg)).ToLowerInvariant());
        }
    }
}
