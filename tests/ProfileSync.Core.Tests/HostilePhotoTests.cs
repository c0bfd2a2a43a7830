using System.Buffers.Binary;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>
/// Untrusted photo bytes end to end (issue 5, item 2): each kind of Exchange photo, served by the
/// emulator, gets its exact per-user state and sync action; the readable ones end InSync with an
/// upright square in SharePoint, the others fail with PhotoUnreadable and leave SharePoint untouched.
/// </summary>
public class HostilePhotoTests
{
    private sealed record Case(string Name, Func<byte[]> Bytes, string ContentType, PhotoState State, SyncAction Action, string? ErrorId = null, int Width = 648, int Height = 648);

    private static byte[] Reference => TestImages.Portrait(31, size: 240);

    private static byte[] With(Func<SKBitmap, byte[]> encode)
    {
        using var bitmap = TestImages.Decode(Reference);
        return encode(bitmap);
    }

    private static byte[] Declaring30000()
    {
        var png = TestImages.Solid(8, 8, SKColors.Gray);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 30000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 30000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), ImagingTests.Crc32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>A large camera-like JPEG: noise compresses badly, so 2,000 pixels square at quality 100 passes 4 MB.</summary>
    private static byte[] OverFourMegabytes()
    {
        using var bitmap = new SKBitmap(2000, 2000);
        var random = new Random(5);
        var pixels = new byte[2000 * 2000 * 4];
        random.NextBytes(pixels);
        for (var i = 3; i < pixels.Length; i += 4) pixels[i] = 255;
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return TestImages.Encode(bitmap, quality: 100);
    }

    /// <summary>The stored pixels lie on their side; EXIF orientation 6 says to turn them a quarter clockwise.</summary>
    private static byte[] Rotated()
    {
        using var upright = TestImages.Decode(Reference);
        using var stored = new SKBitmap(upright.Height, upright.Width);
        using (var canvas = new SKCanvas(stored))
        {
            canvas.Translate(0, stored.Height);
            canvas.RotateDegrees(-90);
            canvas.DrawBitmap(upright, 0, 0);
        }
        return ImagingTests.WithExifOrientation(TestImages.Encode(stored, quality: 95), 6);
    }

    private static readonly Case[] Cases =
    {
        new("not-an-image", () => "<html><body>Service unavailable</body></html>"u8.ToArray(), "image/jpeg", PhotoState.Error, SyncAction.Failed, ErrorIds.PhotoUnreadable),
        new("truncated", () => Reference[..(Reference.Length / 2)], "image/jpeg", PhotoState.Error, SyncAction.Failed, ErrorIds.PhotoUnreadable),
        new("declares-30000", Declaring30000, "image/png", PhotoState.Error, SyncAction.Failed, ErrorIds.PhotoUnreadable),
        new("empty-body", () => [], "image/jpeg", PhotoState.Error, SyncAction.Failed, ErrorIds.PhotoUnreadable),
        new("png", () => With(b => TestImages.Encode(b, SKEncodedImageFormat.Png)), "image/png", PhotoState.Different, SyncAction.Updated),
        new("gif", () => With(SourceFormatTests.Gif), "image/gif", PhotoState.Different, SyncAction.Updated),
        new("bmp", () => With(SourceFormatTests.Bmp), "image/bmp", PhotoState.Different, SyncAction.Updated),
        new("webp", () => With(b => TestImages.Encode(b, SKEncodedImageFormat.Webp, 90)), "image/webp", PhotoState.Different, SyncAction.Updated),
        new("cmyk-jpeg", () => With(b => TestJpeg.Encode(b, cmyk: true, progressive: false)), "image/jpeg", PhotoState.Different, SyncAction.Updated),
        new("progressive-jpeg", () => With(b => TestJpeg.Encode(b, cmyk: false, progressive: true)), "image/jpeg", PhotoState.Different, SyncAction.Updated),
        new("exif-rotated", Rotated, "image/jpeg", PhotoState.Different, SyncAction.Updated),
        new("non-square", () => TestImages.Encode(TestImages.Decode(TestImages.Portrait(32, size: 300)).Resize(new SKImageInfo(300, 420), SKSamplingOptions.Default)), "image/jpeg", PhotoState.Different, SyncAction.Updated, Width: 300, Height: 420),
        new("over-4-mb", OverFourMegabytes, "image/jpeg", PhotoState.Different, SyncAction.Updated, Width: 2000, Height: 2000),
        new("placeholder-1x1", () => TestImages.Solid(1, 1, SKColors.White, SKEncodedImageFormat.Jpeg), "image/jpeg", PhotoState.NoSourcePhoto, SyncAction.Skipped, Width: 1, Height: 1),
    };

    [Fact]
    public async Task Each_kind_of_photo_gets_its_exact_result_and_nothing_unreadable_reaches_SharePoint()
    {
        var users = string.Join(",", Cases.Select(c => $$"""{ "upn": "{{c.Name}}@contoso.com", "photo": { "seed": 1 }, "sharePoint": "stale" }"""));
        await using var emulator = await Emulator.StartAsync(Scenario.Parse($$"""{ "tenant": "contoso", "users": [ {{users}} ] }"""));
        foreach (var c in Cases)
        {
            var user = emulator.State.FindByKey(c.Name + "@contoso.com")!;
            user.Photo = c.Bytes();
            (user.PhotoContentType, user.PhotoWidth, user.PhotoHeight) = (c.ContentType, c.Width, c.Height);
        }
        var big = emulator.State.FindByKey("over-4-mb@contoso.com")!.Photo!.Length;
        Assert.True(big > 4 * 1024 * 1024, $"{big} bytes");
        var before = emulator.State.Users.ToDictionary(u => u.Upn, u => new Dictionary<string, string>(u.Profile!));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var options = new SyncOptions();

        foreach (var c in Cases)
        {
            var user = UserRef.Parse(c.Name + "@contoso.com");
            var check = await connection.CreateRunServices().Photos.CheckAsync(user, options, CancellationToken.None);
            Assert.True(c.State == check.State.State, $"{c.Name}: expected {c.State}, got {check.State.State} ({check.State.Reason})");
            Assert.Equal(c.ErrorId, check.State.ErrorId);
            if (c.ErrorId is not null) Assert.Contains("Exchange", check.State.Reason ?? "");
            var result = await connection.CreateRunServices().Photos.SyncAsync(check, options, CancellationToken.None);
            Assert.True(c.Action == result.Action, $"{c.Name}: expected {c.Action}, got {result.Action} ({result.Error})");
            if (c.Action == SyncAction.Failed) Assert.Equal(c.ErrorId, result.ErrorId);
        }

        // Nothing was written for a photo that could not be read: those profiles are as they were.
        foreach (var c in Cases.Where(c => c.Action != SyncAction.Updated))
        {
            var upn = c.Name + "@contoso.com";
            Assert.Equal(before[upn], emulator.State.FindByKey(upn)!.Profile!);
        }

        // The readable ones are InSync now, and their large thumbnail is an upright square of the photo.
        foreach (var c in Cases.Where(c => c.Action == SyncAction.Updated))
        {
            var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse(c.Name + "@contoso.com"), options, CancellationToken.None);
            Assert.True(check.State.State == PhotoState.InSync, $"{c.Name}: {check.State.State} ({check.State.Reason})");
            var pictureUrl = new Uri(emulator.State.FindByKey(c.Name + "@contoso.com")!.Profile!["PictureURL"]);
            var large = emulator.State.ReadFile(Uri.UnescapeDataString(pictureUrl.AbsolutePath).Replace("_MThumb.jpg", "_LThumb.jpg"))!;
            using var bitmap = TestImages.Decode(large);
            Assert.Equal(bitmap.Width, bitmap.Height);
            if (c.Name is "exif-rotated" or "png" or "webp" or "bmp" or "cmyk-jpeg" or "progressive-jpeg")
            {
                var distance = PhotoFingerprint.Distance(Reference, large, ImageLimits.Default, "reference", c.Name);
                Assert.True(distance <= PhotoFingerprint.SamePhotoThreshold, $"{c.Name}: the thumbnail is not the upright photo (distance {distance})");
            }
        }
    }

    [Fact]
    public async Task A_check_that_needs_no_photo_says_MissingInSharePoint_and_the_sync_then_fails_on_the_bytes_without_writing()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "tenant": "contoso", "users": [ { "upn": "junk@contoso.com", "photo": { "seed": 1 }, "sharePoint": "none" } ] }"""));
        emulator.State.FindByKey("junk@contoso.com")!.Photo = "GIF89a but not really"u8.ToArray();
        using var connection = EmulatorServiceTests.Connect(emulator);
        var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse("junk@contoso.com"), new SyncOptions(), CancellationToken.None);
        Assert.Equal(PhotoState.MissingInSharePoint, check.State.State);
        var result = await connection.CreateRunServices().Photos.SyncAsync(check, new SyncOptions(), CancellationToken.None);
        Assert.Equal(SyncAction.Failed, result.Action);
        Assert.Equal(ErrorIds.PhotoUnreadable, result.ErrorId);
        Assert.DoesNotContain(emulator.State.RequestLog, e => e.IsWrite);
    }
}
