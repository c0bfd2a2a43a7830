using ProfileSync.Core.Exchange;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Tests;

public class StateDecisionTests
{
    private static readonly ExchangePhotoInfo Photo = new(ExchangePhotoStatus.Found, "\"E1\"", "image/jpeg", 648, 648);
    private static SharePointProfile Profile(string? url = "https://c-my.sharepoint.com/User%20Photos/Profile%20Pictures/x_MThumb.jpg", string? placeholder = "0") =>
        new("i:0#.f|membership|a@c.com", url, placeholder, "1", "1", null);

    [Fact]
    public void Unknown_user_is_NotFound_without_reading_SharePoint() =>
        Assert.Equal(new Decision(NextStep.Final, PhotoState.NotFound, "gone"), StateDecision.Decide(ExchangePhotoInfo.NotFound("gone"), null, null, null));

    [Fact]
    public void No_exchange_photo_is_NoSourcePhoto_without_reading_SharePoint() =>
        Assert.Equal(PhotoState.NoSourcePhoto, StateDecision.Decide(ExchangePhotoInfo.None("none"), null, null, null).State);

    [Fact]
    public void A_photo_asks_for_the_profile_first() =>
        Assert.Equal(NextStep.ReadProfile, StateDecision.Decide(Photo, null, null, null).Next);

    [Fact]
    public void No_profile_is_NotFound() =>
        Assert.Equal(PhotoState.NotFound, StateDecision.Decide(Photo, new ProfileEvidence(null), null, null).State);

    [Theory]
    [InlineData(null, "0")]
    [InlineData("https://c-my.sharepoint.com/x_MThumb.jpg", "1")]
    [InlineData(null, "1")]
    public void No_picture_url_or_a_placeholder_is_MissingInSharePoint_without_a_download(string? url, string placeholder)
    {
        var d = StateDecision.Decide(Photo, new ProfileEvidence(Profile(url, placeholder)), null, null);
        Assert.Equal(NextStep.Final, d.Next);
        Assert.Equal(PhotoState.MissingInSharePoint, d.State);
    }

    [Fact]
    public void A_picture_asks_for_the_thumbnail() =>
        Assert.Equal(NextStep.ReadThumbnail, StateDecision.Decide(Photo, new ProfileEvidence(Profile()), null, null).Next);

    [Fact]
    public void A_missing_file_is_MissingInSharePoint() =>
        Assert.Equal(PhotoState.MissingInSharePoint, StateDecision.Decide(Photo, new ProfileEvidence(Profile()), new ThumbnailEvidence(ThumbnailStatus.Missing), null).State);

    [Fact]
    public void A_url_outside_the_tenant_is_Different_and_never_compared()
    {
        var d = StateDecision.Decide(Photo, new ProfileEvidence(Profile()), new ThumbnailEvidence(ThumbnailStatus.OutsideTenant, Reason: "outside"), null);
        Assert.Equal((NextStep.Final, PhotoState.Different, "outside"), (d.Next, d.State, d.Reason));
    }

    [Fact]
    public void A_stamp_with_the_current_etag_is_InSync_without_the_exchange_photo()
    {
        var d = StateDecision.Decide(Photo, new ProfileEvidence(Profile()), new ThumbnailEvidence(ThumbnailStatus.Found, new PhotoIdentity("\"E1\"", new string('0', 64))), null);
        Assert.Equal((PhotoState.InSync, ComparisonMethod.Stamp), (d.State, d.Method));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_stale_stamp_or_no_stamp_asks_for_a_comparison(bool stamped)
    {
        var stamp = stamped ? new PhotoIdentity("\"OLD\"", new string('0', 64)) : null;
        Assert.Equal(NextStep.Compare, StateDecision.Decide(Photo, new ProfileEvidence(Profile()), new ThumbnailEvidence(ThumbnailStatus.Found, stamp), null).Next);
    }

    [Theory]
    [InlineData(true, PhotoState.InSync)]
    [InlineData(false, PhotoState.Different)]
    public void The_comparison_decides(bool same, PhotoState expected)
    {
        var d = StateDecision.Decide(Photo, new ProfileEvidence(Profile()), new ThumbnailEvidence(ThumbnailStatus.Found), new PhotoComparison(ComparisonMethod.Fingerprint, same, 3));
        Assert.Equal((expected, ComparisonMethod.Fingerprint), (d.State, d.Method));
    }

    [Fact]
    public void Same_bytes_under_a_new_etag_are_InSync_by_hash()
    {
        var photo = TestImages.Portrait(1);
        var stamp = PhotoIdentity.Of("\"OLD\"", photo);
        var cmp = PhotoSyncService.Compare(Photo, photo, new ThumbnailEvidence(ThumbnailStatus.Found, stamp), TestImages.Portrait(50), ImageLimits.Default);
        Assert.Equal((ComparisonMethod.Hash, true), (cmp.Method, cmp.Same));
    }

    [Fact]
    public void An_unreadable_sharepoint_thumbnail_is_Different_not_an_error()
    {
        var cmp = PhotoSyncService.Compare(Photo, TestImages.Portrait(1), new ThumbnailEvidence(ThumbnailStatus.Found), "garbage"u8.ToArray(), ImageLimits.Default);
        Assert.False(cmp.Same);
        Assert.Contains("SharePoint thumbnail", cmp.Reason);
    }

    [Fact]
    public void Timestamps_are_whole_seconds_since_year_one_and_always_move_forward()
    {
        var now = long.Parse(PhotoSyncService.NewTimestamp(null));
        Assert.InRange(now, DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond - 5, DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond + 5);
        var future = (now + 1000).ToString();
        Assert.Equal((now + 1001).ToString(), PhotoSyncService.NewTimestamp(future));
    }
}
