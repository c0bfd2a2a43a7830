using System.Globalization;
using ProfileSync.Core.Exchange;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Runs;
using ProfileSync.Core.SharePoint;

namespace ProfileSync.Core.Sync;

/// <summary>A finished check plus what a sync of the same user reuses (so nothing is read twice).</summary>
public sealed class UserCheck
{
    internal UserCheck(UserRef user, PhotoSyncState state) { User = user; State = state; }
    public UserRef User { get; }
    public PhotoSyncState State { get; }
    internal ExchangePhotoInfo? Exchange { get; init; }
    internal SharePointProfile? Profile { get; init; }
    internal ThumbnailLocation? Location { get; init; }
    internal byte[]? ExchangeBytes { get; init; }
    /// <summary>The profile is the People search index's entry, not a live read: a write reads it live first.</summary>
    internal bool ProfileFromIndex { get; init; }
}

/// <summary>A photo held against SharePoint in place of Exchange's current one.</summary>
public sealed record ReferencePhoto(ExchangePhotoInfo Info, byte[] Bytes);

/// <summary>Options of one run.</summary>
public sealed record SyncOptions
{
    public ThumbnailSizes Sizes { get; init; } = ThumbnailSizes.Default;
    public ImageLimits Limits { get; init; } = ImageLimits.Default;
    /// <summary>Rewrite even users found InSync.</summary>
    public bool Force { get; init; }
    /// <summary>For bulk runs: the library's file list, so checks confirm named thumbnails without downloading them.</summary>
    public LibraryIndex? Index { get; init; }
    /// <summary>For bulk runs: People search's index of profiles, read instead of one profile read per user where the listing agrees.</summary>
    public PeopleIndex? People { get; init; }
    /// <summary>For bulk runs: verdicts of earlier runs that spare a download while neither photo changed.</summary>
    public RememberedVerdicts? Verdicts { get; init; }

    /// <summary>Whether a sync writes this user: it differs or misses in SharePoint, or -Force and it is in sync.</summary>
    public bool WouldWrite(PhotoSyncState state) => state.NeedsSync || (Force && state.State == PhotoState.InSync);
}

/// <summary>
/// Checks and syncs one user at a time (the cmdlets run several of these at once). Reads go through
/// <see cref="StateDecision"/>, which asks only for what it needs; writes go thumbnails first, then
/// properties, so a profile never points at a missing or half-written photo.
/// </summary>
public sealed class PhotoSyncService
{
    private readonly ExchangePhotoClient _exchange;
    private readonly PhotoMetadataBatcher _metadata;
    private readonly SharePointRestClient _sharePoint;
    private readonly UserPhotoLibrary _library;
    private readonly RunStop _stop;

    /// <param name="stop">The run's stop: where a failure that meets every user is noted, and the token that ends writes only when a stop's grace runs out.</param>
    public PhotoSyncService(ExchangePhotoClient exchange, PhotoMetadataBatcher metadata, SharePointRestClient sharePoint, UserPhotoLibrary library, RunStop stop)
    {
        _exchange = exchange;
        _metadata = metadata;
        _sharePoint = sharePoint;
        _library = library;
        _stop = stop;
    }

    public UserPhotoLibrary Library => _library;

    /// <summary>The first failure of this run that would meet every user (rejected token, missing permission); the run stops on it.</summary>
    public Failure? StopFailure => _stop.Failure;

    internal void NoteFailure(ProfileSyncException ex) => _stop.Note(ex.Failure);

    /// <summary>Writes are not stopped by a stop, only when its grace runs out (see <see cref="RunStop"/>).</summary>
    internal CancellationToken WriteToken => _stop.WriteToken;

    private readonly SemaphoreSlim _proofGate = new(1, 1);
    private volatile bool _profileWriteProven;

    /// <summary>
    /// Before the run's first upload or profile write: proves that the sign-in may write other users'
    /// profiles with a harmless write (SPS-PictureTimestamp set to the value it already has). A refusal,
    /// in either of SharePoint's shapes, throws ProfileWriteRefused, which stops the run before any file
    /// is uploaded; users waiting here meet the same. Any other failure is this user's own, and the next
    /// user proves the right. A user without a profile proves nothing and is let through (its write fails as NotFound).
    /// </summary>
    internal async Task ProveProfileWriteAsync(UserRef user, SharePointProfile? profile, CancellationToken cancellationToken)
    {
        if (_profileWriteProven) return;
        await _proofGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_profileWriteProven) return;
            if (_stop.Failure is { ErrorId: ErrorIds.ProfileWriteRefused } refused) throw refused.ToException();
            profile ??= await _sharePoint.GetProfileAsync(user, cancellationToken).ConfigureAwait(false);
            if (profile is null) return;
            await ProfileWriteRights.ProveAsync(_sharePoint, user, profile, _stop.WriteToken).ConfigureAwait(false);
            _profileWriteProven = true;
        }
        catch (ProfileSyncException ex) when (ex.StopsRun)
        {
            // Noted before the gate opens, so the users waiting behind it meet this refusal instead of trying again.
            NoteFailure(ex);
            throw;
        }
        finally
        {
            _proofGate.Release();
        }
    }

    /// <param name="source">
    /// The photo to hold SharePoint against instead of reading Exchange's: a photo Set-ProfilePhoto has
    /// just written (or, -SharePointOnly, is about to write to SharePoint alone).
    /// </param>
    public Task<UserCheck> CheckAsync(UserRef user, SyncOptions options, CancellationToken cancellationToken, ReferencePhoto? source = null) =>
        CheckAsync(user, options, source?.Info, source?.Bytes, useIndex: source is null, cancellationToken);

    /// <param name="useIndex">Whether People search's index may stand in for the profile read (never for a photo about to be written, never when confirming).</param>
    private async Task<UserCheck> CheckAsync(UserRef user, SyncOptions options, ExchangePhotoInfo? exchange, byte[]? exchangeBytes, bool useIndex, CancellationToken cancellationToken)
    {
        SharePointProfile? profile = null;
        ProfileEvidence? profileEvidence = null;
        ThumbnailEvidence? thumbnail = null;
        PhotoComparison? comparison = null;
        ThumbnailLocation? location = null;
        byte[]? thumbnailBytes = null;
        string? thumbnailPath = null;
        var fromIndex = false;
        try
        {
            if (exchange is null)
            {
                // Batched with the other users in flight: one Graph request per 20 users.
                var lookup = await _metadata.GetAsync(user, cancellationToken).ConfigureAwait(false);
                if (lookup.Failure is not null) throw lookup.Failure;
                exchange = lookup.Info!;
            }
            if (useIndex && IndexEvidence.Vouch(user, exchange, options, _library) is { } vouched)
            {
                // The index entry stands in for GetPropertiesFor: the listing agrees with it (IndexEvidence says when).
                (profile, thumbnail, location, fromIndex) = (vouched.Profile, vouched.Thumbnail, vouched.Location, true);
                profileEvidence = new ProfileEvidence(profile);
            }
            while (true)
            {
                var decision = StateDecision.Decide(exchange, profileEvidence, thumbnail, comparison);
                switch (decision.Next)
                {
                    case NextStep.ReadProfile:
                        profile = await _sharePoint.GetProfileAsync(user, cancellationToken).ConfigureAwait(false);
                        profileEvidence = new ProfileEvidence(profile);
                        continue;
                    case NextStep.ReadThumbnail:
                        (thumbnail, location, thumbnailBytes, thumbnailPath) = await ReadThumbnailAsync(user, exchange, profile!.PictureUrl!, options, cancellationToken).ConfigureAwait(false);
                        continue;
                    case NextStep.Compare:
                        exchangeBytes ??= await _exchange.GetPhotoBytesAsync(user, cancellationToken).ConfigureAwait(false);
                        if (exchangeBytes is null)
                        {
                            // The photo went away between the metadata read and the download.
                            exchange = ExchangePhotoInfo.None("Exchange removed the photo during the check.");
                            continue;
                        }
                        comparison = Compare(exchange, exchangeBytes, thumbnail!, thumbnailBytes!, options.Limits);
                        continue;
                }
                var notFound = decision.State == PhotoState.NotFound
                    ? Failure.Of(exchange.Status == ExchangePhotoStatus.UserNotFound ? ErrorIds.UserNotFound : ErrorIds.SharePointProfileNotFound, decision.Reason ?? "Not found.")
                    : null;
                var state = StateOf(user, decision.State, decision.Reason, notFound, exchange, profile, comparison, decision.Method);
                RememberVerdict(user, state, exchange, thumbnailPath, options);
                return new UserCheck(user, state) { Exchange = exchange, Profile = profile, Location = location, ExchangeBytes = exchangeBytes, ProfileFromIndex = fromIndex };
            }
        }
        catch (ProfileSyncException ex)
        {
            NoteFailure(ex);
            return new UserCheck(user, ErrorState(user, ex.Failure, exchange, profile));
        }
    }

    /// <summary>The one way a state is built, with whatever was read (an Error state keeps what was read before the failure).</summary>
    private static PhotoSyncState StateOf(UserRef user, PhotoState state, string? reason, Failure? failure, ExchangePhotoInfo? exchange, SharePointProfile? profile,
        PhotoComparison? comparison = null, ComparisonMethod method = ComparisonMethod.None) => new()
    {
        UserPrincipalName = user.UserPrincipalName,
        DisplayName = profile?.DisplayName,
        State = state,
        Reason = reason,
        Failure = failure,
        ExchangePhotoETag = exchange?.ETag,
        ExchangePhotoWidth = exchange?.Width,
        ExchangePhotoHeight = exchange?.Height,
        ExchangePhotoContentType = exchange?.ContentType,
        SharePointPictureUrl = profile?.PictureUrl,
        SharePointPlaceholderState = profile?.PlaceholderState,
        Distance = comparison?.Distance,
        ComparedBy = method,
    };

    /// <summary>Reads what PictureURL names: the listing where it answers, else a download. Returns the evidence, where, the bytes and the path downloaded.</summary>
    private async Task<(ThumbnailEvidence, ThumbnailLocation?, byte[]?, string?)> ReadThumbnailAsync(UserRef user, ExchangePhotoInfo exchange, string pictureUrl, SyncOptions options, CancellationToken cancellationToken)
    {
        var location = _library.Locate(pictureUrl);
        if (location is null)
            return (new ThumbnailEvidence(ThumbnailStatus.OutsideTenant,
                Reason: $"PictureURL points outside the tenant's My Site host ({SafeHost(pictureUrl)}); it is not fetched. A sync points it back at thumbnails in the tenant."), null, null, null);
        if (options.Index?.Contains(location.MediumPath) is bool listed)
        {
            // The library listing answers without a download: the file is gone, or its name says which photo it holds.
            if (!listed)
                return (new ThumbnailEvidence(ThumbnailStatus.Missing, Reason: $"PictureURL points at '{location.MediumPath}', which does not exist."), location, null, null);
            if (location.NameToken is string token && exchange.ETag is string etag && token == UserPhotoLibrary.PhotoToken(user, etag)
                && options.Index.Contains(location.SmallPath) == true && options.Index.Contains(location.LargePath) == true)
                return (new ThumbnailEvidence(ThumbnailStatus.Found, NameMatchesCurrentPhoto: true), location, null, null);
        }
        var path = location.LargePath;
        var bytes = await _sharePoint.DownloadFileAsync(path, options.Limits.MaxBytes, cancellationToken).ConfigureAwait(false);
        if (bytes is null && location.FollowsNamingScheme)
        {
            // Some tenants carry only S and M: fall back to the medium thumbnail PictureURL names.
            path = location.MediumPath;
            bytes = await _sharePoint.DownloadFileAsync(path, options.Limits.MaxBytes, cancellationToken).ConfigureAwait(false);
        }
        if (bytes is null)
            return (new ThumbnailEvidence(ThumbnailStatus.Missing, Reason: $"PictureURL points at '{location.MediumPath}', which does not exist."), location, null, null);
        return (new ThumbnailEvidence(ThumbnailStatus.Found, PhotoStamp.Read(bytes)), location, bytes, path);
    }

    /// <summary>
    /// Keeps the run's memory of verdicts true: a "same photo" proved by comparing downloads is
    /// remembered with the file's Modified time from the listing; any other outcome forgets the user.
    /// </summary>
    private static void RememberVerdict(UserRef user, PhotoSyncState state, ExchangePhotoInfo exchange, string? thumbnailPath, SyncOptions options)
    {
        if (options.Verdicts is not { IsReady: true } verdicts) return;
        if (state.ComparedBy is ComparisonMethod.Remembered or ComparisonMethod.Name or ComparisonMethod.Stamp && state.State == PhotoState.InSync) return;
        if (state.State == PhotoState.InSync && state.ComparedBy is ComparisonMethod.Hash or ComparisonMethod.Fingerprint
            && thumbnailPath is not null && exchange.ETag is string etag && options.Index?.ModifiedOf(thumbnailPath) is DateTimeOffset modified)
            verdicts.Remember(user, new RememberedVerdict(etag, thumbnailPath, modified));
        else if (state.State != PhotoState.Error)
            verdicts.Forget(user);
    }

    internal static PhotoComparison Compare(ExchangePhotoInfo exchange, byte[] exchangeBytes, ThumbnailEvidence thumbnail, byte[] thumbnailBytes, ImageLimits limits)
    {
        var identity = PhotoIdentity.Of(exchange.ETag ?? "", exchangeBytes);
        if (thumbnail.Stamp is not null && thumbnail.Stamp.Sha256 == identity.Sha256)
            return new PhotoComparison(ComparisonMethod.Hash, true, 0, "The thumbnail was written by ProfileSync from the same photo bytes.");
        // Each side is read on its own: an unreadable Exchange photo fails the check (PhotoUnreadable),
        // an unreadable thumbnail is simply another photo, which a sync replaces.
        var exchangeSide = PhotoDecoder.SquareSide(exchangeBytes, limits, "Exchange photo");
        int thumbnailSide;
        try
        {
            thumbnailSide = PhotoDecoder.SquareSide(thumbnailBytes, limits, "SharePoint thumbnail");
        }
        catch (ProfileSyncException ex)
        {
            return new PhotoComparison(ComparisonMethod.Fingerprint, false, null, ex.Message + " A sync replaces it.");
        }
        var grid = PhotoFingerprint.GridFor(Math.Min(exchangeSide, thumbnailSide));
        var exchangePrint = PhotoFingerprint.Read(exchangeBytes, limits, "Exchange photo", grid);
        PhotoFingerprint thumbnailPrint;
        try
        {
            thumbnailPrint = PhotoFingerprint.Read(thumbnailBytes, limits, "SharePoint thumbnail", grid);
        }
        catch (ProfileSyncException ex)
        {
            return new PhotoComparison(ComparisonMethod.Fingerprint, false, null, ex.Message + " A sync replaces it.");
        }
        var distance = exchangePrint.DistanceTo(thumbnailPrint);
        return distance <= PhotoFingerprint.SamePhotoThreshold
            ? new PhotoComparison(ComparisonMethod.Fingerprint, true, distance, $"Same photo (distance {distance.ToString("0.##", CultureInfo.InvariantCulture)} <= {PhotoFingerprint.SamePhotoThreshold}).")
            : new PhotoComparison(ComparisonMethod.Fingerprint, false, distance, $"Another photo (distance {distance.ToString("0.##", CultureInfo.InvariantCulture)} > {PhotoFingerprint.SamePhotoThreshold}).");
    }

    /// <summary>
    /// Writes the Exchange photo into SharePoint for a checked user. Thumbnails first (S, L, then M,
    /// the one PictureURL names), then PictureURL, placeholder state 0 and a new timestamp.
    /// SPS-PictureExchangeSyncState is left as it is. Once the first upload starts the write is not
    /// cancelled by a stop (only when the stop's grace runs out), so a stopped run never leaves a user
    /// half-written. A failure leaves the profile as it was: uploads of a failed write are recycled; a
    /// placeholder write that fails puts PictureURL back. A failed timestamp write only adds a note.
    /// </summary>
    public async Task<PhotoSyncResult> SyncAsync(UserCheck check, SyncOptions options, CancellationToken cancellationToken)
    {
        if (check.ProfileFromIndex && options.WouldWrite(check.State))
        {
            // The index lags: a write starts from the live profile (its timestamp, placeholder, object id), and from a check made with it.
            check = await ConfirmAsync(check, options, cancellationToken).ConfigureAwait(false);
        }
        var before = check.State;
        if (!options.WouldWrite(before)) return NotWritten(before);
        var cleanup = new Cleanup();
        try
        {
            var bytes = check.ExchangeBytes ?? await _exchange.GetPhotoBytesAsync(check.User, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
                return new PhotoSyncResult
                {
                    UserPrincipalName = before.UserPrincipalName, Action = SyncAction.Skipped, StateBefore = PhotoState.NoSourcePhoto,
                    PictureUrl = before.SharePointPictureUrl, Reason = "Exchange removed the photo before the sync.", Check = before,
                };
            var identity = PhotoIdentity.Of(check.Exchange!.ETag!, bytes);
            // Made before anything is written: a photo that cannot be read fails here and SharePoint is untouched.
            var thumbnails = ThumbnailMaker.Make(bytes, identity, options.Sizes, options.Limits);
            await ProveProfileWriteAsync(check.User, check.Profile, cancellationToken).ConfigureAwait(false);
            var (folder, basePrefix) = await TargetAsync(check, cancellationToken).ConfigureAwait(false);
            var prefix = basePrefix + "_" + UserPhotoLibrary.PhotoToken(check.User, identity.ETag);
            var (pictureUrl, note) = await WriteAsync(check, thumbnails, folder, prefix, options, cleanup).ConfigureAwait(false);
            await RecyclePreviousAsync(check, folder, prefix, options, cleanup).ConfigureAwait(false);
            var leftovers = await RecycleSetsAsync(LeftoverSets(check, options, keep: folder + "/" + prefix), options, cleanup).ConfigureAwait(false);
            var leftoverNote = leftovers > 0 ? $"{leftovers} leftover thumbnail set(s) of ProfileSync's went to the recycle bin." : null;
            return new PhotoSyncResult
            {
                UserPrincipalName = before.UserPrincipalName, Action = SyncAction.Updated, StateBefore = before.State,
                PictureUrl = pictureUrl, ThumbnailFileName = prefix + UserPhotoLibrary.MediumSuffix,
                Reason = string.Join(" ", new[] { before.Reason, note, leftoverNote, cleanup.Failure?.Message }.Where(t => !string.IsNullOrEmpty(t))),
                Check = before, CleanupFailure = cleanup.Failure, LeftoverSetsRecycled = leftovers,
            };
        }
        catch (ProfileSyncException ex)
        {
            NoteFailure(ex);
            return new PhotoSyncResult
            {
                UserPrincipalName = before.UserPrincipalName, Action = SyncAction.Failed, StateBefore = before.State,
                PictureUrl = before.SharePointPictureUrl, Reason = before.Reason, Failure = ex.Failure, Check = before, CleanupFailure = cleanup.Failure,
            };
        }
    }

    /// <summary>
    /// A check whose profile came from the index, made again from the live profile: the same check
    /// with the live profile when it names the same photo state, else a full check without the index.
    /// </summary>
    private async Task<UserCheck> ConfirmAsync(UserCheck check, SyncOptions options, CancellationToken cancellationToken)
    {
        SharePointProfile? live;
        try
        {
            live = await _sharePoint.GetProfileAsync(check.User, cancellationToken).ConfigureAwait(false);
        }
        catch (ProfileSyncException ex)
        {
            NoteFailure(ex);
            return new UserCheck(check.User, ErrorState(check.User, ex.Failure, check.Exchange, check.Profile));
        }
        var indexed = check.Profile!;
        if (live is not null && live.PictureUrl == indexed.PictureUrl && live.ShowsPlaceholder == indexed.ShowsPlaceholder)
            return new UserCheck(check.User, check.State)
            { Exchange = check.Exchange, Profile = live, Location = check.Location, ExchangeBytes = check.ExchangeBytes };
        return await CheckAsync(check.User, options, check.Exchange, check.ExchangeBytes, useIndex: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads the set, then points the profile at it; each failure puts back what it had changed. Returns PictureURL and a note.</summary>
    private async Task<(string PictureUrl, string? Note)> WriteAsync(UserCheck check, ThumbnailSet thumbnails, string folder, string prefix, SyncOptions options, Cleanup cleanup)
    {
        var write = _stop.WriteToken;
        var pictureUrl = _library.PictureUrlFor(folder + "/" + prefix + UserPhotoLibrary.MediumSuffix);
        var profile = check.Profile!;
        var pointsThereAlready = string.Equals(profile.PictureUrl, pictureUrl, StringComparison.Ordinal);
        var uploaded = await UploadSetAsync(thumbnails, folder, prefix, recycleOnFailure: !pointsThereAlready, options, cleanup).ConfigureAwait(false);

        if (!pointsThereAlready)
        {
            try
            {
                await _sharePoint.SetProfilePropertyAsync(check.User, SharePointWireFormat.PictureUrlProperty, pictureUrl, write).ConfigureAwait(false);
            }
            catch (ProfileSyncException ex) when (ex.StatusCode is not null)
            {
                // SharePoint answered no (a deleted user, a failing write): the profile still names the old files, so the new ones go.
                // Without an answer the write may have landed, and the new files stay.
                await RecycleAsync(uploaded, options, cleanup).ConfigureAwait(false);
                throw;
            }
        }
        if (profile.PlaceholderState != "0")
        {
            try
            {
                await _sharePoint.SetProfilePropertyAsync(check.User, SharePointWireFormat.PlaceholderStateProperty, "0", write).ConfigureAwait(false);
            }
            catch (ProfileSyncException) when (!pointsThereAlready)
            {
                // Half a sync is no state to leave: point the profile back where it was, then drop the new files.
                if (await RestorePictureUrlAsync(check.User, profile.PictureUrl, cleanup).ConfigureAwait(false))
                    await RecycleAsync(uploaded, options, cleanup).ConfigureAwait(false);
                throw;
            }
        }
        try
        {
            await _sharePoint.SetProfilePropertyAsync(check.User, SharePointWireFormat.PictureTimestampProperty, NewTimestamp(profile.PictureTimestamp), write).ConfigureAwait(false);
            return (pictureUrl, null);
        }
        catch (ProfileSyncException ex)
        {
            // The photo is synced; only the cache-busting timestamp is old, so pages may show the old photo a while longer.
            // A refusal that meets every user still stops the run, but this user's sync stands.
            NoteFailure(ex);
            return (pictureUrl, $"SPS-PictureTimestamp could not be updated ({ex.Message}); pages may show the previous photo until their cache expires.");
        }
    }

    /// <summary>Uploads S, L, then M (the one PictureURL names); on a failure the files of this attempt go again, the profile untouched.</summary>
    private async Task<List<string>> UploadSetAsync(ThumbnailSet thumbnails, string folder, string prefix, bool recycleOnFailure, SyncOptions options, Cleanup cleanup)
    {
        var uploaded = new List<string>();
        try
        {
            foreach (var (suffix, content) in new[] { (UserPhotoLibrary.SmallSuffix, thumbnails.Small), (UserPhotoLibrary.LargeSuffix, thumbnails.Large), (UserPhotoLibrary.MediumSuffix, thumbnails.Medium) })
            {
                await _sharePoint.UploadFileAsync(folder, prefix + suffix, content, _stop.WriteToken).ConfigureAwait(false);
                uploaded.Add(folder + "/" + prefix + suffix);
            }
        }
        catch (ProfileSyncException)
        {
            // Unless the profile already names these files (a rerun of the same photo), they go again.
            if (recycleOnFailure) await RecycleAsync(uploaded, options, cleanup).ConfigureAwait(false);
            throw;
        }
        foreach (var path in uploaded) options.Index?.Added(path);
        return uploaded;
    }

    /// <summary>The result for a user a sync does not write: Skipped, or Failed when its check failed. No request.</summary>
    public static PhotoSyncResult NotWritten(PhotoSyncState before) => new()
    {
        UserPrincipalName = before.UserPrincipalName, Action = before.State == PhotoState.Error ? SyncAction.Failed : SyncAction.Skipped,
        StateBefore = before.State, PictureUrl = before.SharePointPictureUrl, Reason = before.Reason, Check = before,
        Failure = before.State == PhotoState.Error ? before.Failure : null,
    };

    /// <summary>
    /// A user the admin declined at the confirmation prompt (or -WhatIf): nothing written, not finished for the journal.
    /// A -WhatIf result names the file the write would make (its name depends only on the user and the Exchange etag).
    /// </summary>
    public static PhotoSyncResult NotConfirmed(UserCheck check, bool whatIf)
    {
        var before = check.State;
        return new()
        {
            UserPrincipalName = before.UserPrincipalName, Action = whatIf ? SyncAction.WouldUpdate : SyncAction.Skipped, StateBefore = before.State,
            PictureUrl = before.SharePointPictureUrl, Reason = whatIf ? before.Reason : "Declined at the confirmation prompt.", Check = before, Declined = true,
            ThumbnailFileName = whatIf && check.Exchange?.ETag is { Length: > 0 } etag
                ? OwnerOf(check) + "_" + UserPhotoLibrary.PhotoToken(check.User, etag) + UserPhotoLibrary.MediumSuffix : null,
        };
    }

    /// <summary>
    /// Where to write and under which base name: the folder -PhotoFolder names; else the folder of the
    /// user's current thumbnails when PictureURL names files of the tenant's photo library, else the
    /// discovered photo folder (a folder over the view threshold is left by naming another); the
    /// base is the Entra object id (stable across UPN renames, no '#' for guests), else the account
    /// name made safe. The photo token follows the base, so each photo gets its own names.
    /// </summary>
    private async Task<(string Folder, string BasePrefix)> TargetAsync(UserCheck check, CancellationToken cancellationToken)
    {
        var basePrefix = OwnerOf(check);
        var location = CurrentLocation(check);
        if (!_library.HasConfiguredFolder && location is { FollowsNamingScheme: true } && location.FilePrefix.Length > 0 && _library.IsInLibrary(location.FolderServerRelativeUrl))
            return (location.FolderServerRelativeUrl, basePrefix);
        return (await _library.GetPhotoFolderAsync(cancellationToken).ConfigureAwait(false), basePrefix);
    }

    /// <summary>
    /// Whether a set (by its file prefix) is this user's: named by the account name made safe
    /// (SharePoint's own copy) or by the Entra object id, with or without ProfileSync's photo token.
    /// </summary>
    internal static bool IsOwnSet(string filePrefix, string? objectId, UserRef user)
    {
        var owner = UserPhotoLibrary.TokenOf(filePrefix) is null ? filePrefix : filePrefix[..filePrefix.LastIndexOf('_')];
        return owner.Equals(user.LegacyFilePrefix, StringComparison.OrdinalIgnoreCase)
            || (Guid.TryParse(objectId, out var id) && owner.Equals(id.ToString("D"), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>What the names of this user's sets start with: the Entra object id, else the account name made safe.</summary>
    private static string OwnerOf(UserCheck check) => Guid.TryParse(check.Profile?.ObjectId, out var id) ? id.ToString("D") : check.User.LegacyFilePrefix;

    /// <summary>
    /// Sets ProfileSync wrote for this user that the profile no longer names (SharePoint's own pull
    /// pointed PictureURL at its own thumbnails, or an earlier run was stopped): only in bulk runs,
    /// where the library listing says which exist; only files named with ProfileSync's photo token.
    /// </summary>
    public IReadOnlyList<string> LeftoverSets(UserCheck check, SyncOptions options, string? keep = null)
    {
        // Only by object id: account-name prefixes can collide (john.smith@ and john_smith@ make the same one).
        if (options.Index is not { IsReady: true } index || !Guid.TryParse(check.Profile?.ObjectId, out _)) return Array.Empty<string>();
        var named = CurrentLocation(check) is { FollowsNamingScheme: true } current ? current.FolderServerRelativeUrl + "/" + current.FilePrefix : null;
        return index.SetsOf(OwnerOf(check))
            .Where(set => !set.Equals(named, StringComparison.OrdinalIgnoreCase) && !set.Equals(keep, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>For a user the sync does not write: its leftover sets to the recycle bin (the caller confirmed). Skipped, with what went.</summary>
    public async Task<PhotoSyncResult> RecycleLeftoversAsync(UserCheck check, SyncOptions options)
    {
        var cleanup = new Cleanup();
        var recycled = await RecycleSetsAsync(LeftoverSets(check, options), options, cleanup).ConfigureAwait(false);
        var before = NotWritten(check.State);
        return new PhotoSyncResult
        {
            UserPrincipalName = before.UserPrincipalName, Action = before.Action, StateBefore = before.StateBefore, PictureUrl = before.PictureUrl,
            Reason = $"{before.Reason} {recycled} leftover thumbnail set(s) of ProfileSync's went to the recycle bin." + (cleanup.Failure is null ? "" : " " + cleanup.Failure.Message),
            Check = before.Check, Failure = before.Failure, CleanupFailure = cleanup.Failure, LeftoverSetsRecycled = recycled,
        };
    }

    /// <summary>Recycles whole sets (the S, M and L the listing holds); how many went completely.</summary>
    private async Task<int> RecycleSetsAsync(IReadOnlyList<string> sets, SyncOptions options, Cleanup cleanup)
    {
        var recycled = 0;
        foreach (var set in sets)
        {
            var failedBefore = cleanup.Failures;
            await RecycleAsync(UserPhotoLibrary.SetSuffixes.Select(x => set + x).Where(p => options.Index?.Contains(p) != false), options, cleanup,
                $"Leftover thumbnails '{set}_*Thumb.jpg' could not be recycled").ConfigureAwait(false);
            if (cleanup.Failures == failedBefore) recycled++;
        }
        return recycled;
    }

    private ThumbnailLocation? CurrentLocation(UserCheck check) =>
        check.Location ?? (check.Profile?.PictureUrl is string url ? _library.Locate(url) : null);

    /// <summary>
    /// Moves the thumbnails the profile pointed at before this sync to the recycle bin (recoverable),
    /// once the profile points at the new ones: nothing replaced is left behind. Only a set inside the
    /// tenant's photo library, named S/M/L, and not the set just written.
    /// </summary>
    private async Task RecyclePreviousAsync(UserCheck check, string folder, string prefix, SyncOptions options, Cleanup cleanup)
    {
        var old = CurrentLocation(check);
        if (old is not { FollowsNamingScheme: true } || old.FilePrefix.Length == 0 || !_library.IsInLibrary(old.FolderServerRelativeUrl)) return;
        if (!IsOwnSet(old.FilePrefix, check.Profile?.ObjectId, check.User)) return; // PictureURL is free text: another user's set is not ours to recycle
        if (old.FolderServerRelativeUrl.Equals(folder, StringComparison.OrdinalIgnoreCase) && old.FilePrefix.Equals(prefix, StringComparison.OrdinalIgnoreCase)) return;
        await RecycleAsync(old.SetPaths, options, cleanup, $"The previous thumbnails ('{old.MediumPath}' and its S/L) could not be recycled").ConfigureAwait(false);
    }

    /// <summary>What the clean-up of one user's write could not do: recorded in the result, counted in the summary, never thrown away.</summary>
    internal sealed class Cleanup
    {
        public Failure? Failure { get; private set; }
        public int Failures { get; private set; }

        public void Note(string what, ProfileSyncException ex)
        {
            Failures++;
            Failure ??= Failure.Of(ErrorIds.CleanupFailed, $"{what}: {ex.Message}") with { Service = ex.Service, HttpStatus = ex.StatusCode, ServiceErrorCode = ex.ServiceErrorCode, Exception = ex };
        }
    }

    /// <summary>
    /// Moves files to the recycle bin, each tried even when one fails (the index follows); failures go
    /// into <paramref name="cleanup"/>. Used for replaced sets, and for the files of a write that failed.
    /// </summary>
    internal async Task RecycleAsync(IEnumerable<string> paths, SyncOptions options, Cleanup cleanup, string what = "Files of the failed write could not be recycled")
    {
        foreach (var path in paths)
        {
            try
            {
                await _sharePoint.RecycleFileAsync(path, _stop.WriteToken).ConfigureAwait(false);
                options.Index?.Removed(path);
            }
            catch (ProfileSyncException ex)
            {
                cleanup.Note(what, ex);
            }
        }
    }

    /// <summary>Puts PictureURL back after a later write failed; tried three times, since half a sync is the state to avoid.</summary>
    private async Task<bool> RestorePictureUrlAsync(UserRef user, string? previous, Cleanup cleanup)
    {
        ProfileSyncException? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                await _sharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PictureUrlProperty, previous ?? "", _stop.WriteToken).ConfigureAwait(false);
                return true;
            }
            catch (ProfileSyncException ex)
            {
                last = ex;
            }
        }
        cleanup.Note("PictureURL could not be put back after a failed write; the profile may name the new thumbnails with the placeholder still shown", last!);
        return false;
    }

    /// <summary>Whole seconds since 0001-01-01 (the form SharePoint's own values take), always newer than the old one.</summary>
    internal static string NewTimestamp(string? previous)
    {
        var now = DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond;
        if (long.TryParse(previous, NumberStyles.Integer, CultureInfo.InvariantCulture, out var old) && old >= now) now = old + 1;
        return now.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>An Error state, with whatever was read before the failure.</summary>
    public static PhotoSyncState ErrorState(UserRef user, Failure failure, ExchangePhotoInfo? exchange = null, SharePointProfile? profile = null) =>
        StateOf(user, PhotoState.Error, failure.Message, failure, exchange, profile);

    /// <summary>A user whose check could not begin: NotFound for an object id Graph does not know (as for an unknown UPN), Error otherwise.</summary>
    public static PhotoSyncState NotCheckedState(UserRef user, Failure failure) =>
        failure.ErrorId == ErrorIds.UserNotFound ? StateOf(user, PhotoState.NotFound, failure.Message, failure, null, null) : ErrorState(user, failure);

    private static string SafeHost(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Host : "not an absolute URL";
}
