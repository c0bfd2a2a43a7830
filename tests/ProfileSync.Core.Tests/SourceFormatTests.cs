using ProfileSync.Core.Imaging;
using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>
/// Photos in the formats an HR export or an admin upload brings (issue 5): WebP, BMP and GIF sources
/// (the last two written here byte by byte: nothing on this machine encodes them) read as the same
/// picture as the JPEG original, and thumbnails made from them are upright squares.
/// </summary>
public class SourceFormatTests
{
    private static byte[] Pixels(SKBitmap bitmap, out int width, out int height)
    {
        width = bitmap.Width;
        height = bitmap.Height;
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var c = bitmap.GetPixel(x, y);
            var i = (y * width + x) * 3;
            (rgb[i], rgb[i + 1], rgb[i + 2]) = (c.Red, c.Green, c.Blue);
        }
        return rgb;
    }

    /// <summary>A 24-bit BMP (BITMAPINFOHEADER, bottom-up rows padded to 4 bytes).</summary>
    internal static byte[] Bmp(SKBitmap bitmap)
    {
        var rgb = Pixels(bitmap, out var w, out var h);
        var row = (w * 3 + 3) / 4 * 4;
        var data = new byte[54 + row * h];
        void Int(int at, int v) => BitConverter.GetBytes(v).CopyTo(data, at);
        data[0] = (byte)'B'; data[1] = (byte)'M';
        Int(2, data.Length); Int(10, 54); Int(14, 40); Int(18, w); Int(22, h);
        data[26] = 1; data[28] = 24; Int(34, row * h);
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var src = (y * w + x) * 3;
            var dst = 54 + (h - 1 - y) * row + x * 3;
            (data[dst], data[dst + 1], data[dst + 2]) = (rgb[src + 2], rgb[src + 1], rgb[src]);
        }
        return data;
    }

    /// <summary>
    /// A GIF89a with a 6x6x6 colour cube palette. LZW is written "uncompressed": 7-bit codes with a clear
    /// code every 100 pixels, so the code width never grows; every decoder reads it.
    /// </summary>
    internal static byte[] Gif(SKBitmap bitmap)
    {
        var rgb = Pixels(bitmap, out var w, out var h);
        using var gif = new MemoryStream();
        void Bytes(params byte[] b) => gif.Write(b);
        void Short(int v) => Bytes((byte)(v & 0xFF), (byte)(v >> 8));
        Bytes("GIF89a"u8.ToArray()); Short(w); Short(h); Bytes(0xF7, 0, 0); // global colour table of 256
        for (var i = 0; i < 256; i++)
        {
            var c = i < 216 ? new[] { i / 36 * 51, i / 6 % 6 * 51, i % 6 * 51 } : new[] { 0, 0, 0 };
            Bytes((byte)c[0], (byte)c[1], (byte)c[2]);
        }
        Bytes(0x2C); Short(0); Short(0); Short(w); Short(h); Bytes(0);
        const int minCodeSize = 8, clear = 256, end = 257;
        Bytes(minCodeSize);
        var codes = new List<int>();
        for (var p = 0; p < w * h; p++)
        {
            if (p % 100 == 0) codes.Add(clear);
            int Q(byte v) => (v + 25) / 51;
            codes.Add(Q(rgb[p * 3]) * 36 + Q(rgb[p * 3 + 1]) * 6 + Q(rgb[p * 3 + 2]));
        }
        codes.Add(end);
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var code in codes)
        {
            buffer |= code << bits;
            bits += 9;
            while (bits >= 8) { packed.Add((byte)(buffer & 0xFF)); buffer >>= 8; bits -= 8; }
        }
        if (bits > 0) packed.Add((byte)buffer);
        for (var i = 0; i < packed.Count; i += 255)
        {
            var n = Math.Min(255, packed.Count - i);
            Bytes((byte)n);
            gif.Write(packed.ToArray(), i, n);
        }
        Bytes(0, 0x3B);
        return gif.ToArray();
    }

    private static (int Marker, int Width, int Height, int Components) FrameHeader(byte[] jpeg)
    {
        for (var i = 2; i + 9 < jpeg.Length;)
        {
            var marker = jpeg[i + 1];
            var length = jpeg[i + 2] << 8 | jpeg[i + 3];
            if (marker is 0xC0 or 0xC2)
                return (marker, jpeg[i + 7] << 8 | jpeg[i + 8], jpeg[i + 5] << 8 | jpeg[i + 6], jpeg[i + 9]);
            i += 2 + length;
        }
        throw new InvalidDataException("no frame header");
    }

    private static SKBitmap Quantised(SKBitmap source)
    {
        var copy = source.Copy();
        static byte Q(byte v) => (byte)((v + 25) / 51 * 51);
        for (var y = 0; y < copy.Height; y++)
        for (var x = 0; x < copy.Width; x++)
        {
            var c = copy.GetPixel(x, y);
            copy.SetPixel(x, y, new SKColor(Q(c.Red), Q(c.Green), Q(c.Blue)));
        }
        return copy;
    }

    public static TheoryData<string> Formats => new() { "webp", "bmp", "gif", "png", "cmyk-jpeg", "progressive-jpeg", "cmyk-progressive-jpeg" };

    [Theory, MemberData(nameof(Formats))]
    public void A_source_in_another_format_reads_as_the_same_photo_and_makes_square_thumbnails(string format)
    {
        var jpeg = TestImages.Portrait(21, size: 240);
        using var bitmap = TestImages.Decode(jpeg);
        var source = format switch
        {
            "webp" => TestImages.Encode(bitmap, SKEncodedImageFormat.Webp, 90),
            "png" => TestImages.Encode(bitmap, SKEncodedImageFormat.Png),
            "bmp" => Bmp(bitmap),
            "gif" => Gif(bitmap),
            _ => TestJpeg.Encode(bitmap, cmyk: format.Contains("cmyk"), progressive: format.Contains("progressive")),
        };
        if (format.EndsWith("jpeg"))
        {
            // The file is what its name says: a progressive frame (SOF2) or a baseline one (SOF0), with 4 or 3 components.
            var frame = FrameHeader(source);
            Assert.Equal(format.Contains("progressive") ? 0xC2 : 0xC0, frame.Marker);
            Assert.Equal(format.Contains("cmyk") ? 4 : 3, frame.Components);
            Assert.Equal((240, 240), (frame.Width, frame.Height));
        }
        // A 216-colour GIF is a visibly different picture; it is compared with the same quantised picture as PNG.
        var reference = format == "gif" ? TestImages.Encode(Quantised(bitmap), SKEncodedImageFormat.Png) : jpeg;
        var distance = PhotoFingerprint.Distance(reference, source, ImageLimits.Default, "reference", format);
        Assert.True(distance <= (format == "gif" ? 1.0 : PhotoFingerprint.SamePhotoThreshold), $"{format}: distance {distance}");
        var set = ThumbnailMaker.Make(source, PhotoIdentity.Of("\"E1\"", source), ThumbnailSizes.Default, ImageLimits.Default);
        using var large = TestImages.Decode(set.Large);
        Assert.Equal((200, 200), (large.Width, large.Height));
    }
}
