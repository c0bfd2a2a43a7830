using SkiaSharp;

namespace ProfileSync.TenantEmulator;

/// <summary>
/// Draws deterministic portrait-like photos from a seed, and makes thumbnails the way SharePoint's
/// own Exchange pull does (its sizes and JPEG quality, no ProfileSync stamp).
/// </summary>
public static class PhotoFactory
{
    public static byte[] Portrait(PhotoSpec spec)
    {
        // A photo whose bytes are not an image at all (a broken HR import): the module must say so, not crash.
        if (spec.Format.Equals("corrupt", StringComparison.OrdinalIgnoreCase))
            return System.Text.Encoding.ASCII.GetBytes("<html><body>Photo service error " + spec.Seed + "</body></html>");
        var r = new Random(spec.Seed);
        var w = spec.Width;
        var h = spec.Height;
        using var surface = SKSurface.Create(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        var c = surface.Canvas;
        var bgTop = RandomColor(r);
        var bgBottom = RandomColor(r);
        using (var bg = new SKPaint())
        {
            bg.Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, h), new[] { bgTop, bgBottom }, SKShaderTileMode.Clamp);
            c.DrawRect(0, 0, w, h, bg);
        }
        float s = Math.Min(w, h);
        float cx = w / 2f + (float)(r.NextDouble() - 0.5) * s * 0.1f;
        float cy = h * 0.42f;
        var skin = new SKColor((byte)r.Next(150, 250), (byte)r.Next(110, 200), (byte)r.Next(80, 170));
        var hair = RandomColor(r);
        var shirt = RandomColor(r);
        var texture = Enumerable.Range(0, 40).Select(_ => (x: (float)r.NextDouble() * w, y: (float)r.NextDouble() * h, rad: (float)(r.NextDouble() * 0.06 + 0.01) * s, col: RandomColor(r).WithAlpha(70))).ToList();
        if (spec.Variant == 1) shirt = new SKColor((byte)(255 - shirt.Red), (byte)(255 - shirt.Green), (byte)(255 - shirt.Blue));

        using var paint = new SKPaint { IsAntialias = true };
        foreach (var t in texture) { paint.Color = t.col; c.DrawCircle(t.x, t.y, t.rad, paint); }
        paint.Color = shirt;
        c.DrawOval(new SKRect(cx - s * 0.38f, h * 0.72f, cx + s * 0.38f, h * 1.25f), paint);
        paint.Color = hair;
        c.DrawOval(new SKRect(cx - s * 0.2f, cy - s * 0.26f, cx + s * 0.2f, cy + s * 0.08f), paint);
        paint.Color = skin;
        c.DrawOval(new SKRect(cx - s * 0.17f, cy - s * 0.2f, cx + s * 0.17f, cy + s * 0.22f), paint);
        paint.Color = SKColors.Black;
        c.DrawCircle(cx - s * 0.06f, cy, s * 0.018f, paint);
        c.DrawCircle(cx + s * 0.06f, cy, s * 0.018f, paint);
        if (spec.Variant == 1)
        {
            using var frame = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = s * 0.012f, Color = new SKColor(20, 20, 20) };
            c.DrawCircle(cx - s * 0.06f, cy, s * 0.045f, frame);
            c.DrawCircle(cx + s * 0.06f, cy, s * 0.045f, frame);
            c.DrawLine(cx - s * 0.015f, cy, cx + s * 0.015f, cy, frame);
        }
        using var image = surface.Snapshot();
        var format = spec.Format.Equals("png", StringComparison.OrdinalIgnoreCase) ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
        using var data = image.Encode(format, 92);
        return data.ToArray();
    }

    /// <summary>A square JPEG thumbnail as SharePoint makes it from an Exchange photo.</summary>
    public static byte[] SharePointThumbnail(byte[] photo, int side, int quality = 75)
    {
        using var bitmap = SKBitmap.Decode(photo) ?? throw new InvalidDataException("Not an image.");
        var sq = Math.Min(bitmap.Width, bitmap.Height);
        var left = (bitmap.Width - sq) / 2;
        var top = (bitmap.Height - sq) / 2;
        using var surface = SKSurface.Create(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var image = SKImage.FromBitmap(bitmap);
        surface.Canvas.DrawImage(image, new SKRect(left, top, left + sq, top + sq), new SKRect(0, 0, side, side),
            new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    /// <summary>Inserts an EXIF APP1 segment with one Orientation entry (1-8) after a JPEG's SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        // APP1 "Exif\0\0" + big-endian TIFF header + one IFD entry: Orientation (0x0112), SHORT, 1.
        var tiff = new byte[] { 0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, 0, 0, 0, 0 };
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var length = payload.Length + 2;
        var app1 = new byte[] { 0xFF, 0xE1, (byte)(length >> 8), (byte)length }.Concat(payload);
        return jpeg.Take(2).Concat(app1).Concat(jpeg.Skip(2)).ToArray();
    }

    /// <summary>
    /// A sample photo file for tests of photo imports: the portrait of a seed as JPEG or PNG, or stored
    /// turned a quarter counter-clockwise with EXIF orientation 6, so that only a reader that applies
    /// EXIF shows it upright.
    /// </summary>
    public static byte[] Sample(int seed, string format, int side)
    {
        var jpeg = Portrait(new PhotoSpec { Seed = seed, Width = side, Height = side });
        if (format == "jpeg") return jpeg;
        using var upright = SKBitmap.Decode(jpeg);
        if (format == "png")
        {
            using var png = SKImage.FromBitmap(upright).Encode(SKEncodedImageFormat.Png, 100);
            return png.ToArray();
        }
        using var stored = new SKBitmap(upright.Height, upright.Width);
        using (var canvas = new SKCanvas(stored))
        {
            canvas.Translate(0, stored.Height);
            canvas.RotateDegrees(-90);
            canvas.DrawBitmap(upright, 0, 0);
        }
        using var data = SKImage.FromBitmap(stored).Encode(SKEncodedImageFormat.Jpeg, 92);
        return WithExifOrientation(data.ToArray(), 6);
    }

    private static SKColor RandomColor(Random r) => new((byte)r.Next(256), (byte)r.Next(256), (byte)r.Next(256));
}
