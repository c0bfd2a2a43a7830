using System.Globalization;
using ProfileSync.Core.Exchange;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.SharePoint;

namespace ProfileSync.Core.Sync;

/// <summary>
/// Sets and removes photos on both sides. Exchange goes first (it is where every client, and
/// SharePoint's own pull, reads from); SharePoint is then written with the same writer and the same
/// as-it-was-or-fully-synced rule as Sync-ProfilePhoto, so the new photo shows there at once.
/// </summary>
public sealed class PhotoChangeService(ExchangePhotoClient exchange, PhotoMetadataBatcher metadata, SharePointRestClient sharePoint,
    UserPhotoLibrary library, PhotoSyncService photos)
{
    /// <summary>Writes a prepared photo: to Exchange (unless sharePointOnly), then to SharePoint.</summary>
    public async Task<PhotoChangeResult> SetAsync(UserRef user, PreparedPhoto photo, string source, bool sharePointOnly, SyncOptions options, CancellationToken cancellationToken)
    {
        if (await ProveAsync(user, cancellationToken).ConfigureAwait(false) is { } refused)
            return Result(user, photo, source, ChangeAction.Failed, SideOutcome.NotRequested, SideOutcome.Failed, null, $"SharePoint: {refused.Message} Exchange was not touched.", refused);
        // From the first write on, the user is finished even if the run stops: Exchange and SharePoint both, or neither.
        cancellationToken = photos.WriteToken;
        var exchangeSide = SideOutcome.NotRequested;
        ExchangePhotoInfo info;
        if (!sharePointOnly)
        {
            try
            {
                await exchange.SetPhotoAsync(user, photo.Jpeg, cancellationToken).ConfigureAwait(false);
            }
            catch (ProfileSyncException ex)
            {
                photos.NoteFailure(ex);
                return Result(user, photo, source, ChangeAction.Failed, ex.ErrorId == ErrorIds.UserNotFound ? SideOutcome.NotFound : SideOutcome.Failed,
                    SideOutcome.NotRequested, null, $"Exchange: {ex.Message} SharePoint was not touched.", ex.Failure);
            }
            exchangeSide = SideOutcome.Updated;
            // The new etag names the thumbnails and goes into their stamp, so later checks know them without a download.
            var lookup = await metadata.GetAsync(user, cancellationToken).ConfigureAwait(false);
            info = lookup.Info is { Status: ExchangePhotoStatus.Found, ETag: not null } read ? read with { ContentType = "image/jpeg" } : Synthetic(photo);
        }
        else
        {
            info = Synthetic(photo);
        }

        var check = await photos.CheckAsync(user, options, cancellationToken, new ReferencePhoto(info, photo.Jpeg)).ConfigureAwait(false);
        var state = check.State;
        if (state.State == PhotoState.InSync)
            return Result(user, photo, source, ChangeAction.Updated, exchangeSide, SideOutcome.AlreadyShown, state.SharePointPictureUrl,
                "SharePoint already showed this photo.", null);
        if (state.State is PhotoState.NotFound or PhotoState.Error)
        {
            // Exchange took the photo and there is no SharePoint profile to write: done, with the reason as an error.
            var action = exchangeSide == SideOutcome.Updated && state.State == PhotoState.NotFound ? ChangeAction.Updated : ChangeAction.Failed;
            return Result(user, photo, source, action, exchangeSide, state.State == PhotoState.NotFound ? SideOutcome.NotFound : SideOutcome.Failed,
                state.SharePointPictureUrl, $"SharePoint: {state.Reason}", state.Failure);
        }
        var written = await photos.SyncAsync(check, options, cancellationToken).ConfigureAwait(false);
        var result = written.Action == SyncAction.Updated
            ? Result(user, photo, source, ChangeAction.Updated, exchangeSide, SideOutcome.Updated, written.PictureUrl, written.Reason, null)
            : Result(user, photo, source, ChangeAction.Failed, exchangeSide, SideOutcome.Failed, written.PictureUrl,
                $"SharePoint: {written.Error ?? written.Reason}" + (exchangeSide == SideOutcome.Updated ? " Exchange has the new photo; run Sync-ProfilePhoto for this user." : ""),
                written.Failure ?? Failure.Of(ErrorIds.SyncFailed, written.Reason ?? "The SharePoint write failed."));
        return written.CleanupFailure is null ? result : result.WithCleanup(written.CleanupFailure);
    }

    /// <summary>
    /// Removes the photo: Exchange's (unless sharePointOnly), then SharePoint's (unless exchangeOnly):
    /// placeholder shown first, then PictureURL cleared, then the thumbnails ProfileSync wrote recycled.
    /// In that order a stop at any point leaves a profile that shows the placeholder or its old photo,
    /// never a missing file.
    /// </summary>
    public async Task<PhotoChangeResult> RemoveAsync(UserRef user, bool exchangeOnly, bool sharePointOnly, SyncOptions options, CancellationToken cancellationToken)
    {
        if (!exchangeOnly && await ProveAsync(user, cancellationToken).ConfigureAwait(false) is { } refused)
            return Removal(user, ChangeAction.Failed, SideOutcome.NotRequested, SideOutcome.Failed, null, $"SharePoint: {refused.Message} Exchange was not touched.", refused);
        // From the first write on, the user is finished even if the run stops.
        cancellationToken = photos.WriteToken;
        var exchangeSide = SideOutcome.NotRequested;
        if (!sharePointOnly)
        {
            try
            {
                exchangeSide = await exchange.RemovePhotoAsync(user, cancellationToken).ConfigureAwait(false) ? SideOutcome.Removed : SideOutcome.NothingToRemove;
            }
            catch (ProfileSyncException ex)
            {
                photos.NoteFailure(ex);
                return Removal(user, ChangeAction.Failed, ex.ErrorId == ErrorIds.UserNotFound ? SideOutcome.NotFound : SideOutcome.Failed, SideOutcome.NotRequested, null,
                    $"Exchange: {ex.Message} SharePoint was not touched.", ex.Failure);
            }
        }
        // Removed only where something was removed; a user with nothing to remove on any side asked is Skipped.
        var exchangeAction = exchangeSide == SideOutcome.Removed ? ChangeAction.Removed : ChangeAction.Skipped;
        if (exchangeOnly)
            return Removal(user, exchangeAction, exchangeSide, SideOutcome.NotRequested, null,
                exchangeSide == SideOutcome.Removed ? "The Exchange photo was removed." : "Nothing to remove: Exchange had no photo.", null);

        SharePointProfile? profile;
        try
        {
            profile = await sharePoint.GetProfileAsync(user, cancellationToken).ConfigureAwait(false);
        }
        catch (ProfileSyncException ex)
        {
            photos.NoteFailure(ex);
            return Removal(user, ChangeAction.Failed, exchangeSide, SideOutcome.Failed, null, $"SharePoint: {ex.Message}", ex.Failure);
        }
        if (profile is null)
            return Removal(user, exchangeSide == SideOutcome.NotRequested ? ChangeAction.Failed : exchangeAction, exchangeSide, SideOutcome.NotFound, null,
                "The user has no SharePoint profile.", Failure.Of(ErrorIds.SharePointProfileNotFound, $"{user}: the user has no SharePoint profile."));
        if (profile.ShowsPlaceholder && profile.PictureUrl is null)
            return Removal(user, exchangeAction, exchangeSide, SideOutcome.NothingToRemove, null,
                exchangeSide == SideOutcome.Removed ? "SharePoint already showed the placeholder." : "Nothing to remove: " + (exchangeSide == SideOutcome.NothingToRemove ? "Exchange had no photo and " : "") + "SharePoint already showed the placeholder.", null);

        try
        {
            await ShowPlaceholderAsync(user, profile).ConfigureAwait(false);
        }
        catch (ProfileSyncException ex)
        {
            photos.NoteFailure(ex);
            return Removal(user, ChangeAction.Failed, exchangeSide, SideOutcome.Failed, profile.PictureUrl, $"SharePoint: {ex.Message}", ex.Failure);
        }

        // Only the files ProfileSync wrote (named with its photo token) go; SharePoint's own stay where they are.
        string? note = null;
        var cleanup = new PhotoSyncService.Cleanup();
        if (profile.PictureUrl is not null && library.Locate(profile.PictureUrl) is { FollowsNamingScheme: true, NameToken: not null } ours
            && library.IsInLibrary(ours.FolderServerRelativeUrl) && PhotoSyncService.IsOwnSet(ours.FilePrefix, profile.ObjectId, user))
        {
            await photos.RecycleAsync(ours.SetPaths, options, cleanup, "Its thumbnails could not all be recycled").ConfigureAwait(false);
            note = cleanup.Failure is null ? " Its thumbnails went to the recycle bin." : " " + cleanup.Failure.Message;
        }
        var removed = Removal(user, ChangeAction.Removed, exchangeSide, SideOutcome.Removed, null, "SharePoint shows the placeholder." + note, null);
        return cleanup.Failure is null ? removed : removed.WithCleanup(cleanup.Failure);
    }

    /// <summary>
    /// What -WhatIf reads before it reports what it would do: whether Graph knows the user (one photo
    /// metadata read, batched with the users in flight). The failure when it does not, or when the read failed.
    /// </summary>
    public async Task<Failure?> FindUserAsync(UserRef user, CancellationToken cancellationToken)
    {
        var lookup = await metadata.GetAsync(user, cancellationToken).ConfigureAwait(false);
        if (lookup.Failure is { } failed)
        {
            photos.NoteFailure(failed);
            return failed.Failure;
        }
        return lookup.Info is { Status: ExchangePhotoStatus.UserNotFound } missing
            ? Failure.Of(ErrorIds.UserNotFound, missing.Reason ?? $"Graph knows no user '{user}'.")
            : null;
    }

    /// <summary>Proves the profile-write right before anything (Exchange included) is written; the failure when it cannot be proven.</summary>
    private async Task<Failure?> ProveAsync(UserRef user, CancellationToken cancellationToken)
    {
        try
        {
            await photos.ProveProfileWriteAsync(user, null, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (ProfileSyncException ex)
        {
            photos.NoteFailure(ex);
            return ex.Failure;
        }
    }

    /// <summary>Placeholder first, then PictureURL cleared, then a new timestamp; once started it is finished (a stop never leaves it halfway).</summary>
    private async Task ShowPlaceholderAsync(UserRef user, SharePointProfile profile)
    {
        var write = photos.WriteToken;
        if (!profile.ShowsPlaceholder)
            await sharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PlaceholderStateProperty, "1", write).ConfigureAwait(false);
        if (profile.PictureUrl is not null)
            await sharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PictureUrlProperty, "", write).ConfigureAwait(false);
        await sharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PictureTimestampProperty, PhotoSyncService.NewTimestamp(profile.PictureTimestamp), write).ConfigureAwait(false);
    }

    /// <summary>A photo written to SharePoint alone has no Exchange etag: one is made from its hash, so its files have a stable name.</summary>
    private static ExchangePhotoInfo Synthetic(PreparedPhoto photo) =>
        new(ExchangePhotoStatus.Found, "\"ps-" + photo.Sha256[..16] + "\"", "image/jpeg", photo.Side, photo.Side);

    private static PhotoChangeResult Result(UserRef user, PreparedPhoto photo, string source, ChangeAction action, SideOutcome exchangeSide, SideOutcome sharePointSide,
        string? pictureUrl, string? reason, Failure? failure) => new()
        {
            UserPrincipalName = user.UserPrincipalName, Operation = "Set", Action = action, Exchange = exchangeSide, SharePoint = sharePointSide,
            Source = source, PhotoSide = photo.Side, PhotoBytes = photo.Bytes, PhotoSha256 = photo.Sha256, PictureUrl = pictureUrl,
            Reason = reason, Failure = failure,
        };

    private static PhotoChangeResult Removal(UserRef user, ChangeAction action, SideOutcome exchangeSide, SideOutcome sharePointSide,
        string? pictureUrl, string? reason, Failure? failure) => new()
        {
            UserPrincipalName = user.UserPrincipalName, Operation = "Remove", Action = action, Exchange = exchangeSide, SharePoint = sharePointSide,
            PictureUrl = pictureUrl, Reason = reason, Failure = failure,
        };

    /// <summary>What -WhatIf reports for a Set: the photo as it would be written, nothing sent.</summary>
    public static PhotoChangeResult WouldSet(UserRef user, PreparedPhoto photo, string source, bool sharePointOnly, string reason) =>
        Result(user, photo, source, ChangeAction.WouldUpdate, sharePointOnly ? SideOutcome.NotRequested : SideOutcome.WouldUpdate, SideOutcome.WouldUpdate, null, reason, null);

    public static PhotoChangeResult WouldRemove(UserRef user, bool exchangeOnly, bool sharePointOnly, string reason) =>
        Removal(user, ChangeAction.WouldRemove, sharePointOnly ? SideOutcome.NotRequested : SideOutcome.WouldRemove,
            exchangeOnly ? SideOutcome.NotRequested : SideOutcome.WouldRemove, null, reason, null);

    /// <summary>A row that failed before anything was written (its source, an unexpected error), with its failure.</summary>
    public static PhotoChangeResult Failed(UserRef user, string operation, string? source, Failure failure) => new()
    {
        UserPrincipalName = user.UserPrincipalName, Operation = operation, Action = ChangeAction.Failed, Source = source,
        Reason = failure.Message, Failure = failure,
    };

    /// <summary>A user -WhatIf could not resolve (<see cref="FindUserAsync"/>): nothing written.</summary>
    public static PhotoChangeResult NotResolved(UserRef user, string operation, string? source, Failure failure) => new()
    {
        UserPrincipalName = user.UserPrincipalName, Operation = operation, Action = ChangeAction.Failed, Source = source,
        Exchange = failure.ErrorId == ErrorIds.UserNotFound ? SideOutcome.NotFound : SideOutcome.Failed,
        Reason = failure.Message, Failure = failure,
    };

    /// <summary>A user declined at the confirmation prompt: nothing written.</summary>
    public static PhotoChangeResult Declined(UserRef user, string operation, string? source) => new()
    {
        UserPrincipalName = user.UserPrincipalName, Operation = operation, Action = ChangeAction.Skipped, Source = source, Reason = "Declined at the confirmation prompt.",
    };

    public static string Describe(PreparedPhoto photo) =>
        string.Create(CultureInfo.InvariantCulture, $"{photo.Side}x{photo.Side} JPEG, {photo.Bytes / 1024.0:0.0} KB, SHA-256 {photo.Sha256[..12]}");
}
