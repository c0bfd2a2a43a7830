using ProfileSync.Core.Imaging;
using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>
/// The comparison's promise: the same photo at other sizes and JPEG qualities is the same; a
/// different photo, including a similar one, is not. Measured margins are in docs/ARCHITECTURE.md.
/// </summary>
public class FingerprintTests
{
    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

    private static double Distance(byte[] a, byte[] b) => PhotoFingerprint.Distance(a, b, ImageLimits.Default, "a", "b");

    [Theory, MemberData(nameof(Seeds))]
    public void Same_photo_at_other_sizes_and_qualities_is_within_the_threshold(int seed)
    {
        var photo = TestImages.Portrait(seed);
        foreach (var side in new[] { 72, 96, 200, 240, 300, 648 })
        foreach (var quality in new[] { 60, 75, 90 })
        foreach (var cubic in new[] { false, true })
        {
            var d = Distance(photo, TestImages.Reencode(photo, side, quality, cubic));
            Assert.True(d <= PhotoFingerprint.SamePhotoThreshold, $"seed {seed}, {side}px q{quality} cubic={cubic}: distance {d}");
        }
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Same_photo_as_a_png_or_at_48_pixels_good_quality_is_within_the_threshold(int seed)
    {
        var photo = TestImages.Portrait(seed);
        using var bitmap = TestImages.Decode(photo);
        Assert.True(Distance(photo, TestImages.Encode(bitmap, SKEncodedImageFormat.Png)) <= 1.0);
        Assert.True(Distance(photo, TestImages.Reencode(photo, 48, 90, cubic: true)) <= PhotoFingerprint.SamePhotoThreshold);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Similar_but_different_photos_are_over_the_threshold(int seed)
    {
        var photo = TestImages.Portrait(seed);
        var edits = new Dictionary<string, byte[]>
        {
            ["thin glasses"] = Glasses(photo),
            ["another shirt and glasses"] = TestImages.Portrait(seed, variant: 1),
            ["a patch on the shirt (2% of the area)"] = TestImages.Edit(photo, (c, s) => { using var p = new SKPaint { Color = SKColors.DarkRed }; c.DrawRect(s * 0.55f, s * 0.75f, s * 0.15f, s * 0.12f, p); }),
            ["15% brighter"] = TestImages.Edit(photo, (c, s) => { using var p = new SKPaint { Color = SKColors.White.WithAlpha(40) }; c.DrawRect(0, 0, s, s, p); }),
            ["reframed 4% to the side"] = TestImages.Edit(photo, (c, s) => { using var img = SKImage.FromBitmap(TestImages.Decode(photo)); c.DrawImage(img, s * 0.04f, 0); }),
            ["another person"] = TestImages.Portrait(seed + 100),
        };
        foreach (var (name, edited) in edits)
        {
            var d = Distance(photo, edited);
            Assert.True(d > PhotoFingerprint.SamePhotoThreshold, $"seed {seed}, {name}: distance {d}");
        }
        // The subtlest edit still differs once SharePoint has re-encoded it as a large or medium thumbnail.
        foreach (var side in new[] { 96, 200, 240 })
        {
            var d = Distance(photo, TestImages.Reencode(Glasses(photo), side, 75, cubic: true));
            Assert.True(d > PhotoFingerprint.SamePhotoThreshold, $"seed {seed}, glasses at {side}px: distance {d}");
        }
    }

    [Fact]
    public void Grid_follows_the_smaller_photo()
    {
        Assert.Equal(8, PhotoFingerprint.GridFor(48));
        Assert.Equal(12, PhotoFingerprint.GridFor(72));
        Assert.Equal(32, PhotoFingerprint.GridFor(200));
        Assert.Equal(32, PhotoFingerprint.GridFor(648));
        Assert.Equal(8, PhotoFingerprint.GridFor(1));
    }

    [Fact]
    public void Identical_photos_have_distance_zero()
    {
        var photo = TestImages.Portrait(3);
        Assert.Equal(0, Distance(photo, photo));
    }

    private static byte[] Glasses(byte[] photo) => TestImages.Edit(photo, (c, s) =>
    {
        using var f = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = s * 0.012f, Color = new SKColor(20, 20, 20) };
        c.DrawCircle(s * 0.44f, s * 0.42f, s * 0.045f, f);
        c.DrawCircle(s * 0.56f, s * 0.42f, s * 0.045f, f);
    });
}
