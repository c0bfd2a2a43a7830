using ProfileSync.Core.Exchange;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.SharePoint;

namespace ProfileSync.Core.Sync;

/// <summary>What SharePoint's large thumbnail told us.</summary>
public enum ThumbnailStatus { Found, Missing, OutsideTenant }

/// <summary>What the thumbnail told: its stamp when downloaded, that its name carries the current photo token, or a remembered verdict that still holds (no download).</summary>
public sealed record ThumbnailEvidence(ThumbnailStatus Status, PhotoIdentity? Stamp = null, string? Reason = null, bool NameMatchesCurrentPhoto = false, bool Remembered = false);

/// <summary>The outcome of comparing the Exchange photo with SharePoint's thumbnail.</summary>
public sealed record PhotoComparison(ComparisonMethod Method, bool Same, double? Distance = null, string? Reason = null);

/// <summary>The profile read: Profile null means the user has no SharePoint profile.</summary>
public sealed record ProfileEvidence(SharePointProfile? Profile);

public enum NextStep { Final, ReadProfile, ReadThumbnail, Compare }

public readonly record struct Decision(NextStep Next, PhotoState State = PhotoState.Error, string? Reason = null, ComparisonMethod Method = ComparisonMethod.None)
{
    public static Decision Need(NextStep step) => new(step);
    public static Decision Final(PhotoState state, string reason, ComparisonMethod method = ComparisonMethod.None) => new(NextStep.Final, state, reason, method);
}

/// <summary>
/// The heart of the product, with no I/O: given what has been read so far, either the user's state
/// or the one cheapest thing still to read. The engine loops on it, so a user costs only the calls
/// the decision needs (no SharePoint call for a user without an Exchange photo, no Exchange photo
/// download when the thumbnail's stamp matches the etag).
/// </summary>
public static class StateDecision
{
    public static Decision Decide(ExchangePhotoInfo exchange, ProfileEvidence? profile, ThumbnailEvidence? thumbnail, PhotoComparison? comparison)
    {
        switch (exchange.Status)
        {
            case ExchangePhotoStatus.UserNotFound:
                return Decision.Final(PhotoState.NotFound, exchange.Reason ?? "No such user in Microsoft Graph.");
            case ExchangePhotoStatus.NoPhoto:
                return Decision.Final(PhotoState.NoSourcePhoto, exchange.Reason ?? "Exchange has no photo for this user.");
        }

        if (profile is null) return Decision.Need(NextStep.ReadProfile);
        var p = profile.Profile;
        if (p is null) return Decision.Final(PhotoState.NotFound, "The user has no SharePoint user profile (not yet created, or the account is not licensed for SharePoint).");
        if (p.PictureUrl is null) return Decision.Final(PhotoState.MissingInSharePoint, "The SharePoint profile has no PictureURL.");
        if (p.ShowsPlaceholder) return Decision.Final(PhotoState.MissingInSharePoint, "SharePoint shows the placeholder (SPS-PicturePlaceholderState = 1).");

        if (thumbnail is null) return Decision.Need(NextStep.ReadThumbnail);
        switch (thumbnail.Status)
        {
            case ThumbnailStatus.OutsideTenant:
                return Decision.Final(PhotoState.Different, thumbnail.Reason ?? "PictureURL points outside the tenant's My Site host.");
            case ThumbnailStatus.Missing:
                return Decision.Final(PhotoState.MissingInSharePoint, thumbnail.Reason ?? "PictureURL points at a file that does not exist.");
        }
        if (thumbnail.NameMatchesCurrentPhoto)
            return Decision.Final(PhotoState.InSync, "PictureURL names thumbnails ProfileSync made from the current Exchange photo, and the library holds all three.", ComparisonMethod.Name);
        if (thumbnail.Remembered)
            return Decision.Final(PhotoState.InSync, "Found the same photo on an earlier run, and neither the Exchange photo (etag) nor the thumbnail (Modified in the library) changed since.", ComparisonMethod.Remembered);
        if (thumbnail.Stamp is not null && thumbnail.Stamp.ETag == exchange.ETag)
            return Decision.Final(PhotoState.InSync, "The thumbnail was written by ProfileSync from the current Exchange photo (same etag).", ComparisonMethod.Stamp);

        if (comparison is null) return Decision.Need(NextStep.Compare);
        return comparison.Same
            ? Decision.Final(PhotoState.InSync, comparison.Reason ?? "Same photo.", comparison.Method)
            : Decision.Final(PhotoState.Different, comparison.Reason ?? "Another photo.", comparison.Method);
    }
}
