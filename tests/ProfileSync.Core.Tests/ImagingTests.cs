using System.Buffers.Binary;
using ProfileSync.Core.Imaging;
using SkiaSharp;

namespace ProfileSync.Core.Tests;

public class ImagingTests
{
    private static readonly PhotoIdentity Identity = new("\"BA09D118\"", new string('a', 64));

    [Fact]
    public void Thumbnails_are_square_jpegs_of_the_default_sizes_and_carry_the_stamp()
    {
        var set = ThumbnailMaker.Make(TestImages.Portrait(1), Identity, ThumbnailSizes.Default, ImageLimits.Default);
        foreach (var (bytes, side) in new[] { (set.Small, 48), (set.Medium, 72), (set.Large, 200) })
        {
            using var codec = SKCodec.Create(new MemoryStream(bytes));
            Assert.Equal(SKEncodedImageFormat.Jpeg, codec.EncodedFormat);
            Assert.Equal(side, codec.Info.Width);
            Assert.Equal(side, codec.Info.Height);
            Assert.Equal(Identity, PhotoStamp.Read(bytes));
        }
    }

    [Fact]
    public void Custom_sizes_are_honoured_and_checked()
    {
        var set = ThumbnailMaker.Make(TestImages.Portrait(2), Identity, ThumbnailSizes.From(new[] { 64, 96, 300 }), ImageLimits.Default);
        using var large = SKBitmap.Decode(set.Large);
        Assert.Equal(300, large.Width);
        Assert.Throws<ArgumentException>(() => ThumbnailSizes.From(new[] { 96, 72, 200 }));
        Assert.Throws<ArgumentException>(() => ThumbnailSizes.From(new[] { 48, 72 }));
        Assert.Throws<ArgumentException>(() => ThumbnailSizes.From(new[] { 48, 72, 4000 }));
    }

    [Fact]
    public void A_non_square_photo_is_centre_cropped()
    {
        // 300x100: red | green | blue thirds. The square crop is the green middle.
        using var bitmap = new SKBitmap(300, 100);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var p = new SKPaint();
            p.Color = SKColors.Red; canvas.DrawRect(0, 0, 100, 100, p);
            p.Color = SKColors.Lime; canvas.DrawRect(100, 0, 100, 100, p);
            p.Color = SKColors.Blue; canvas.DrawRect(200, 0, 100, 100, p);
        }
        var set = ThumbnailMaker.Make(TestImages.Encode(bitmap, SKEncodedImageFormat.Png), Identity, ThumbnailSizes.Default, ImageLimits.Default);
        using var large = SKBitmap.Decode(set.Large);
        foreach (var x in new[] { 5, 100, 195 })
        {
            var c = large.GetPixel(x, 100);
            Assert.True(c.Green > 200 && c.Red < 60 && c.Blue < 60, $"pixel {x} is {c}");
        }
    }

    [Theory]
    [InlineData(1, false, "left-red")]
    [InlineData(3, false, "left-blue")]
    [InlineData(6, true, "top-red")]
    [InlineData(8, true, "top-blue")]
    [InlineData(2, false, "left-blue")]
    [InlineData(4, false, "left-red")]
    [InlineData(5, true, "top-red")]
    [InlineData(7, true, "top-blue")]
    public void Exif_orientation_is_applied(int orientation, bool swapsSides, string expected)
    {
        // Stored pixels: 200x100, left half red, right half blue.
        using var bitmap = new SKBitmap(200, 100);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var p = new SKPaint { Color = SKColors.Red };
            canvas.DrawRect(0, 0, 100, 100, p);
            p.Color = SKColors.Blue;
            canvas.DrawRect(100, 0, 100, 100, p);
        }
        var jpeg = WithExifOrientation(TestImages.Encode(bitmap, quality: 95), orientation);
        using var upright = PhotoDecoder.DecodeUpright(jpeg, ImageLimits.Default, "test photo");
        Assert.Equal(swapsSides ? 100 : 200, upright.Width);
        Assert.Equal(swapsSides ? 200 : 100, upright.Height);
        var first = swapsSides ? upright.GetPixel(50, 20) : upright.GetPixel(20, 50);
        var isRed = first.Red > 200 && first.Blue < 60;
        Assert.Equal(expected.EndsWith("red"), isRed);
    }

    [Fact]
    public void A_jpeg_decodes_no_larger_than_asked_but_never_below_it_and_other_formats_at_full_size()
    {
        var jpeg = TestImages.Portrait(3);
        using (var small = PhotoDecoder.DecodeSquare(jpeg, ImageLimits.Default, "photo", minSide: 64))
        {
            Assert.InRange(small.Width, 64, 647);
            Assert.Equal(small.Width, small.Height);
        }
        using (var medium = PhotoDecoder.DecodeSquare(jpeg, ImageLimits.Default, "photo", minSide: 200))
            Assert.InRange(medium.Width, 200, 647);
        using (var full = PhotoDecoder.DecodeSquare(jpeg, ImageLimits.Default, "photo"))
            Assert.Equal(648, full.Width);
        var png = TestImages.Solid(300, 300, SKColors.Teal);
        using (var pngSquare = PhotoDecoder.DecodeSquare(png, ImageLimits.Default, "photo", minSide: 64))
            Assert.Equal(300, pngSquare.Width);
        Assert.Equal(300, PhotoDecoder.SquareSide(TestImages.Solid(300, 500, SKColors.Teal), ImageLimits.Default, "photo"));
    }

    [Fact]
    public void Bytes_that_are_not_an_image_are_refused_with_PhotoUnreadable()
    {
        var ex = Assert.Throws<ProfileSyncException>(() => PhotoDecoder.DecodeSquare("<html>not a photo</html>"u8.ToArray(), ImageLimits.Default, "Exchange photo"));
        Assert.Equal(ErrorIds.PhotoUnreadable, ex.ErrorId);
        Assert.Contains("Exchange photo", ex.Message);
        Assert.Throws<ProfileSyncException>(() => PhotoDecoder.DecodeSquare(Array.Empty<byte>(), ImageLimits.Default, "x"));
    }

    [Fact]
    public void A_truncated_jpeg_is_refused()
    {
        var jpeg = TestImages.Portrait(4);
        var ex = Assert.Throws<ProfileSyncException>(() => PhotoDecoder.DecodeSquare(jpeg[..(jpeg.Length / 2)], ImageLimits.Default, "photo"));
        Assert.Equal(ErrorIds.PhotoUnreadable, ex.ErrorId);
    }

    [Fact]
    public void A_small_file_declaring_30000_by_30000_pixels_is_refused_from_its_header()
    {
        var png = TestImages.Solid(8, 8, SKColors.Gray);
        // IHDR starts at byte 8: length(4) "IHDR"(4) width(4) height(4) ... CRC over type+data.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 30000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 30000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.Throws<ProfileSyncException>(() => PhotoDecoder.DecodeSquare(png, ImageLimits.Default, "photo"));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("30000x30000", ex.Message);
        Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Stamp_round_trips_and_leaves_the_image_decodable()
    {
        var jpeg = TestImages.Encode(TestImages.Decode(TestImages.Portrait(5)));
        var identity = PhotoIdentity.Of("\"weird;etag=\"", jpeg);
        var stamped = PhotoStamp.Write(jpeg, identity);
        Assert.Equal(identity, PhotoStamp.Read(stamped));
        using var decoded = SKBitmap.Decode(stamped);
        Assert.NotNull(decoded);
        Assert.Null(PhotoStamp.Read(jpeg));
        Assert.Null(PhotoStamp.Read("GIF89a"u8));
        Assert.Null(PhotoStamp.Read(TestImages.Solid(4, 4, SKColors.Red)));
    }

    internal static byte[] WithExifOrientation(byte[] jpeg, int orientation) => TenantEmulator.PhotoFactory.WithExifOrientation(jpeg, orientation);

    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
