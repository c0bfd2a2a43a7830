using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>Photos made in the test: a portrait from the emulator's factory, and edits of it.</summary>
internal static class TestImages
{
    public static byte[] Portrait(int seed, int size = 648, int variant = 0) =>
        TenantEmulator.PhotoFactory.Portrait(new TenantEmulator.PhotoSpec { Seed = seed, Width = size, Height = size, Variant = variant });

    public static SKBitmap Decode(byte[] bytes) => SKBitmap.Decode(bytes)!;

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg, int quality = 90)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] Reencode(byte[] photo, int side, int quality, bool cubic = false)
    {
        using var source = Decode(photo);
        using var surface = SKSurface.Create(new SKImageInfo(side, side));
        using var image = SKImage.FromBitmap(source);
        var sampling = cubic ? new SKSamplingOptions(SKCubicResampler.Mitchell) : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None);
        surface.Canvas.DrawImage(image, new SKRect(0, 0, side, side), sampling);
        using var snap = surface.Snapshot();
        using var data = snap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    /// <summary>Draws on a copy of the photo: the edits that make a similar but different photo.</summary>
    public static byte[] Edit(byte[] photo, Action<SKCanvas, int> draw)
    {
        using var bitmap = Decode(photo);
        using (var canvas = new SKCanvas(bitmap)) draw(canvas, bitmap.Width);
        return Encode(bitmap, quality: 92);
    }

    public static byte[] Solid(int width, int height, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color);
        return Encode(bitmap, format, 90);
    }
}
