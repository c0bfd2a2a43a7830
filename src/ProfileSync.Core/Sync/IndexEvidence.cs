using ProfileSync.Core.Exchange;
using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;

namespace ProfileSync.Core.Sync;

/// <summary>What a bulk check takes from the People search index instead of a profile read, and what it no longer needs to read.</summary>
internal sealed record Vouched(SharePointProfile Profile, ThumbnailEvidence? Thumbnail, ThumbnailLocation? Location);

/// <summary>
/// Decides, with no I/O, whether a user's People search index entry may stand in for a per-user
/// profile read (facts doc 5a). The index lags the profiles by hours, so it is trusted only where the
/// live library listing agrees with it; every other user is confirmed with GetPropertiesFor:
/// - missing from the index;
/// - the index names files the listing does not hold, or the user has a set newer than the one named
///   (SharePoint copied the photo again, or ProfileSync wrote after the index was taken), or no
///   photo is named while the user has files;
/// - the Exchange photo changed since the SharePoint side was proven (ProfileSync's name token of an
///   older etag, or a remembered verdict of an older etag).
/// The one change this cannot see is a PictureURL pointed at other, existing, older files with no
/// file written; it is found once the index catches up (README "Bulk checks").
/// </summary>
internal static class IndexEvidence
{
    public static Vouched? Vouch(UserRef user, ExchangePhotoInfo exchange, SyncOptions options, UserPhotoLibrary library)
    {
        if (exchange.Status != ExchangePhotoStatus.Found || exchange.ETag is not string etag) return null;
        if (options.People?.Find(user) is not { } profile || options.Index is not { IsReady: true } files) return null;
        var owners = Owners(user, profile.ObjectId);

        if (profile.PictureUrl is null || profile.ShowsPlaceholder)
            // The index says "no photo": true only while the user has no thumbnails at all.
            return files.HasAnySet(owners) == false ? new Vouched(profile, null, null) : null;

        var location = library.Locate(profile.PictureUrl);
        if (location is null)
            // Outside the tenant: nothing to list; a set of the user's in the library means the profile moved on.
            return files.HasAnySet(owners) == false ? new Vouched(profile, null, null) : null;
        if (files.Contains(location.MediumPath) != true) return null;
        var setBase = location.FolderServerRelativeUrl + "/" + location.FilePrefix;
        if (files.HasNewerSetThan(owners, setBase) != false) return null;

        if (location.NameToken is string token)
        {
            // ProfileSync's own set: its name says which Exchange photo it holds.
            if (token == UserPhotoLibrary.PhotoToken(user, etag) && files.Contains(location.SmallPath) == true && files.Contains(location.LargePath) == true)
                return new Vouched(profile, new ThumbnailEvidence(ThumbnailStatus.Found, NameMatchesCurrentPhoto: true), location);
            if (Remembered(user, etag, location, options) is { } kept) return new Vouched(profile, kept, location);
            return null; // the Exchange photo changed since ProfileSync wrote this set
        }
        if (Remembered(user, etag, location, options) is { } remembered) return new Vouched(profile, remembered, location);
        // A verdict of another etag: the Exchange photo changed since the photos were last compared.
        if (options.Verdicts?.Find(user) is { } verdict && verdict.ExchangeETag != etag) return null;
        // No memory of this set (a first run, or SharePoint wrote it again): the download that follows compares it.
        return new Vouched(profile, null, location);
    }

    /// <summary>A remembered "same photo" that still holds: same etag, same file, same Modified in the live listing.</summary>
    private static ThumbnailEvidence? Remembered(UserRef user, string etag, ThumbnailLocation location, SyncOptions options)
    {
        if (options.Verdicts?.Find(user) is not { } v || v.ExchangeETag != etag) return null;
        if (!v.ThumbnailPath.Equals(location.LargePath, StringComparison.OrdinalIgnoreCase) && !v.ThumbnailPath.Equals(location.MediumPath, StringComparison.OrdinalIgnoreCase)) return null;
        return options.Index?.ModifiedOf(v.ThumbnailPath) == v.ThumbnailModified
            ? new ThumbnailEvidence(ThumbnailStatus.Found, Remembered: true)
            : null;
    }

    /// <summary>Whose sets count as this user's: the Entra object id's and the account-name prefix's (older tenants, SharePoint's own copies).</summary>
    internal static IReadOnlyList<string> Owners(UserRef user, string? objectId) =>
        Guid.TryParse(objectId, out var id) ? new[] { id.ToString("D"), user.LegacyFilePrefix } : new[] { user.LegacyFilePrefix };
}
