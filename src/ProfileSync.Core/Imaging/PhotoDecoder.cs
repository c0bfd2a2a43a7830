using SkiaSharp;

namespace ProfileSync.Core.Imaging;

/// <summary>Limits for untrusted photo bytes, from Exchange and SharePoint alike.</summary>
public sealed class ImageLimits
{
    /// <summary>Bytes read at most. Exchange takes photos up to 4 MB; this leaves room for odd sources.</summary>
    public long MaxBytes { get; init; } = 20 * 1024 * 1024;
    /// <summary>Pixels (width x height) decoded at most, checked from the header before any pixel is allocated.</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    public static ImageLimits Default { get; } = new();
}

/// <summary>
/// Turns untrusted bytes into an upright, square bitmap: header check first (format, declared size),
/// then decode, then the EXIF orientation applied (Skia reports it but does not rotate), then a
/// centre crop. Throws <see cref="ProfileSyncException"/> with ErrorId PhotoUnreadable, never a crash.
/// </summary>
public static class PhotoDecoder
{
    /// <param name="minSide">
    /// When above 0, the decoder may hand back a smaller picture whose shorter side is still at least
    /// this (JPEG decodes at 1/8 steps): a fingerprint or a 200-pixel thumbnail needs no 648-pixel
    /// decode, and the smaller pixel buffer keeps a long run's memory and CPU down.
    /// </param>
    public static SKBitmap DecodeSquare(byte[] bytes, ImageLimits limits, string what, int minSide = 0)
    {
        using var upright = DecodeUpright(bytes, limits, what, minSide);
        return CropSquare(upright);
    }

    /// <summary>The side of the square a photo gives (its shorter side), from the header alone.</summary>
    public static int SquareSide(byte[] bytes, ImageLimits limits, string what)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = OpenChecked(data, bytes.Length, limits, what);
        return Math.Min(codec.Info.Width, codec.Info.Height);
    }

    public static SKBitmap DecodeUpright(byte[] bytes, ImageLimits limits, string what, int minSide = 0)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = OpenChecked(data, bytes.Length, limits, what);
        var info = codec.Info;
        var (width, height) = (info.Width, info.Height);
        var shorter = Math.Min(width, height);
        if (minSide > 0 && minSide < shorter)
        {
            // Ask a little above the need: the codec rounds to the scales it supports, and is checked after.
            var scaled = codec.GetScaledDimensions(Math.Min(1f, 1.15f * minSide / shorter));
            if (Math.Min(scaled.Width, scaled.Height) >= minSide) (width, height) = (scaled.Width, scaled.Height);
        }
        var target = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul, SKColorSpace.CreateSrgb());
        var raw = new SKBitmap(target);
        var result = codec.GetPixels(target, raw.GetPixels());
        if (result is SKCodecResult.InvalidScale && (width, height) != (info.Width, info.Height))
        {
            raw.Dispose();
            return DecodeUpright(bytes, limits, what);
        }
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            raw.Dispose();
            throw Unreadable(what, $"its pixels could not be decoded ({result})");
        }
        if (result == SKCodecResult.IncompleteInput)
        {
            raw.Dispose();
            throw Unreadable(what, "the file is truncated");
        }
        var origin = codec.EncodedOrigin;
        if (origin == SKEncodedOrigin.TopLeft) return raw;
        using (raw) return Orient(raw, origin);
    }

    /// <summary>Opens a codec after the checks that need no pixels: length, format, declared size.</summary>
    private static SKCodec OpenChecked(SKData data, int length, ImageLimits limits, string what)
    {
        if (length == 0) throw Unreadable(what, "it is empty");
        if (length > limits.MaxBytes) throw Unreadable(what, $"it is {length / 1024 / 1024} MB, over the {limits.MaxBytes / 1024 / 1024} MB limit");
        var codec = SKCodec.Create(data);
        if (codec is null) throw Unreadable(what, "it is not an image in a format ProfileSync reads (JPEG, PNG, GIF, BMP, WebP)");
        var info = codec.Info;
        string? refusal = info.Width <= 0 || info.Height <= 0 ? "its header declares no size"
            : (long)info.Width * info.Height > limits.MaxPixels ? $"its header declares {info.Width}x{info.Height} pixels, over the limit of {limits.MaxPixels:N0}"
            : null;
        if (refusal is null) return codec;
        codec.Dispose();
        throw Unreadable(what, refusal);
    }

    /// <summary>Applies one of the eight EXIF orientations so the photo stands upright.</summary>
    internal static SKBitmap Orient(SKBitmap raw, SKEncodedOrigin origin)
    {
        float w = raw.Width, h = raw.Height;
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        // Each matrix maps a source pixel (x, y) to where it stands in the upright picture.
        var m = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var result = new SKBitmap(swap ? raw.Height : raw.Width, swap ? raw.Width : raw.Height, raw.ColorType, raw.AlphaType);
        using var canvas = new SKCanvas(result);
        canvas.SetMatrix(m);
        canvas.DrawBitmap(raw, 0, 0);
        return result;
    }

    /// <summary>The largest centred square; the bitmap itself (copied) when already square.</summary>
    public static SKBitmap CropSquare(SKBitmap source)
    {
        var side = Math.Min(source.Width, source.Height);
        var square = new SKBitmap(side, side, source.ColorType, source.AlphaType);
        var left = (source.Width - side) / 2;
        var top = (source.Height - side) / 2;
        using var canvas = new SKCanvas(square);
        canvas.Clear(SKColors.White);
        canvas.DrawBitmap(source, new SKRect(left, top, left + side, top + side), new SKRect(0, 0, side, side));
        return square;
    }

    /// <summary>Resizes with mipmapped linear filtering, which keeps large downscales free of aliasing.</summary>
    public static SKBitmap Resize(SKBitmap source, int width, int height)
    {
        using var image = SKImage.FromBitmap(source);
        var result = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(result);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint();
        canvas.DrawImage(image, new SKRect(0, 0, width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear), paint);
        return result;
    }

    private static ProfileSyncException Unreadable(string what, string why) =>
        new(ErrorIds.PhotoUnreadable, FailureKind.InvalidData, $"The {what} cannot be used: {why}.");
}
