using ProfileSync.Core.Runs;

namespace ProfileSync.Core.Sync;

/// <summary>How a user's SharePoint photo stands against their Exchange photo.</summary>
public enum PhotoState
{
    /// <summary>SharePoint shows the Exchange photo (same picture, at whatever size or JPEG quality).</summary>
    InSync,
    /// <summary>SharePoint shows another picture, or points outside the tenant.</summary>
    Different,
    /// <summary>Exchange has a photo; SharePoint shows a placeholder, has no PictureURL, or its file is gone.</summary>
    MissingInSharePoint,
    /// <summary>Exchange has no photo for the user: nothing to sync.</summary>
    NoSourcePhoto,
    /// <summary>No such user in Graph, or no SharePoint profile.</summary>
    NotFound,
    /// <summary>The check failed; Reason and ErrorId say why.</summary>
    Error,
}

public enum SyncAction { Updated, Skipped, WouldUpdate, Failed }

/// <summary>How ProfileSync decided InSync or Different.</summary>
public enum ComparisonMethod
{
    None,
    /// <summary>The thumbnail carries ProfileSync's stamp with the current Exchange etag: no download of the Exchange photo.</summary>
    Stamp,
    /// <summary>PictureURL's file name carries the token of the current Exchange etag, and the library listing holds S, M and L: no download.</summary>
    Name,
    /// <summary>The stamp's SHA-256 equals the Exchange photo's: same bytes, new etag.</summary>
    Hash,
    /// <summary>Perceptual fingerprints of both photos.</summary>
    Fingerprint,
    /// <summary>An earlier run compared the same Exchange photo (etag) with the same thumbnail (path and Modified): no download.</summary>
    Remembered,
}

/// <summary>The result of Get-PhotoSyncState for one user.</summary>
public sealed class PhotoSyncState : IUserOutcome
{
    public string UserPrincipalName { get; init; } = "";
    /// <summary>The name SharePoint shows for the user, when the profile was read.</summary>
    public string? DisplayName { get; init; }
    public PhotoState State { get; init; }
    public string? Reason { get; init; }
    public string? ExchangePhotoETag { get; init; }
    public int? ExchangePhotoWidth { get; init; }
    public int? ExchangePhotoHeight { get; init; }
    public string? ExchangePhotoContentType { get; init; }
    public string? SharePointPictureUrl { get; init; }
    public string? SharePointPlaceholderState { get; init; }
    /// <summary>Fingerprint distance (0 = identical, 255 = opposite) when fingerprints were compared.</summary>
    public double? Distance { get; init; }
    public ComparisonMethod ComparedBy { get; init; }
    /// <summary>Why the check failed, or why the user was not found: ErrorId, category, service answer, what to do.</summary>
    public Failure? Failure { get; init; }
    public string? ErrorId => Failure?.ErrorId;
    public DateTimeOffset CheckedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>True when a sync would write this user (Force aside).</summary>
    public bool NeedsSync => PhotoStateRules.For(State).NeedsSync;

    /// <summary>Where the user was in the input, 1-based (a CSV's row, -All's listing order): Sort-Object InputIndex restores the input's order.</summary>
    public int InputIndex { get; set; }

    /// <summary>NotFound because SharePoint has no profile for the user yet (Graph knows them).</summary>
    public bool NoSharePointProfile => State == PhotoState.NotFound && Failure?.ErrorId == ErrorIds.SharePointProfileNotFound;

    string IUserOutcome.Outcome => State.ToString();
    bool IUserOutcome.Finished => PhotoStateRules.For(State).Journaled;
    Failure? IUserOutcome.CleanupFailure => null;

    public override string ToString() => $"{UserPrincipalName}: {State}";
}

/// <summary>The result of Sync-ProfilePhoto for one user.</summary>
public sealed class PhotoSyncResult : IUserOutcome
{
    public string UserPrincipalName { get; init; } = "";
    public SyncAction Action { get; init; }
    public PhotoState StateBefore { get; init; }
    /// <summary>PictureURL after the run (unchanged when nothing was written).</summary>
    public string? PictureUrl { get; init; }
    /// <summary>The file name of the thumbnail PictureURL names (M): as written (Updated), or as the write would name it (WouldUpdate).</summary>
    public string? ThumbnailFileName { get; init; }
    public string? Reason { get; init; }
    /// <summary>Why it failed (Action Failed): ErrorId, category, service answer, what to do.</summary>
    public Failure? Failure { get; init; }
    public string? Error => Failure?.Message;
    public string? ErrorId => Failure?.ErrorId;
    /// <summary>Files of this user ProfileSync could not recycle (the sync itself stands or failed on its own).</summary>
    public Failure? CleanupFailure { get; init; }
    /// <summary>The state check this action was decided on.</summary>
    public PhotoSyncState? Check { get; init; }
    /// <summary>Declined at the confirmation prompt: not a finished user for the journal.</summary>
    internal bool Declined { get; init; }
    /// <summary>Sets of thumbnails ProfileSync wrote earlier for this user, named by no profile any more, that went to the recycle bin.</summary>
    public int LeftoverSetsRecycled { get; init; }

    /// <summary>Where the user was in the input, 1-based (a CSV's row, -All's listing order): Sort-Object InputIndex restores the input's order.</summary>
    public int InputIndex
    {
        get => _inputIndex;
        set
        {
            _inputIndex = value;
            if (Check is not null) Check.InputIndex = value;
        }
    }
    private int _inputIndex;

    /// <summary>Not written because SharePoint has no profile for the user yet.</summary>
    public bool NoSharePointProfile => Action != SyncAction.Failed && Check?.NoSharePointProfile == true;

    string IUserOutcome.Outcome => Action.ToString();
    bool IUserOutcome.Finished => Action is SyncAction.Updated || (Action is SyncAction.Skipped && !Declined);
    int IUserOutcome.LeftoverSetsRecycled => LeftoverSetsRecycled;

    public override string ToString() => $"{UserPrincipalName}: {Action}";
}

/// <summary>A row's photo, read and prepared on a worker, that Set-ProfilePhoto asks to write on the pipeline thread.</summary>
public sealed record PhotoToSet(Identity.UserRef User, string Source, Imaging.PreparedPhoto Photo);

/// <summary>What Set-ProfilePhoto or Remove-ProfilePhoto did for a user, overall.</summary>
public enum ChangeAction { Updated, Removed, WouldUpdate, WouldRemove, Skipped, Failed }

/// <summary>What happened on one side (Exchange or SharePoint).</summary>
public enum SideOutcome
{
    /// <summary>This side was left out (-SharePointOnly, -ExchangeOnly), or not reached.</summary>
    NotRequested,
    Updated,
    /// <summary>SharePoint already showed this photo: nothing written.</summary>
    AlreadyShown,
    Removed,
    /// <summary>There was no photo to remove (Exchange), or the placeholder was already shown (SharePoint).</summary>
    NothingToRemove,
    WouldUpdate,
    WouldRemove,
    /// <summary>No such user in Graph, or no SharePoint profile.</summary>
    NotFound,
    Failed,
}

/// <summary>The result of Set-ProfilePhoto or Remove-ProfilePhoto for one user (one input row).</summary>
public sealed class PhotoChangeResult : IUserOutcome
{
    public string UserPrincipalName { get; init; } = "";
    /// <summary>Set or Remove.</summary>
    public string Operation { get; init; } = "";
    public ChangeAction Action { get; init; }
    public SideOutcome Exchange { get; init; }
    public SideOutcome SharePoint { get; init; }
    /// <summary>The file or URL the photo came from (Set).</summary>
    public string? Source { get; init; }
    /// <summary>The photo as written: side in pixels, size in bytes, SHA-256 (Set).</summary>
    public int? PhotoSide { get; init; }
    public int? PhotoBytes { get; init; }
    public string? PhotoSha256 { get; init; }
    /// <summary>PictureURL after the change.</summary>
    public string? PictureUrl { get; init; }
    public string? Reason { get; init; }
    /// <summary>Why a side failed: ErrorId, category, service answer, what to do.</summary>
    public Failure? Failure { get; init; }
    public string? ErrorId => Failure?.ErrorId;
    /// <summary>Files ProfileSync wrote that could not be recycled.</summary>
    public Failure? CleanupFailure { get; init; }

    /// <summary>The input row, 1-based: Sort-Object InputIndex restores the input's order.</summary>
    public int InputIndex { get; set; }

    string IUserOutcome.Outcome => Action.ToString();
    bool IUserOutcome.Finished => Action is ChangeAction.Updated or ChangeAction.Removed;

    internal PhotoChangeResult WithCleanup(Failure cleanup) => new()
    {
        UserPrincipalName = UserPrincipalName, Operation = Operation, Action = Action, Exchange = Exchange, SharePoint = SharePoint, Source = Source,
        PhotoSide = PhotoSide, PhotoBytes = PhotoBytes, PhotoSha256 = PhotoSha256, PictureUrl = PictureUrl, Reason = Reason, Failure = Failure, CleanupFailure = cleanup, InputIndex = InputIndex,
    };

    public override string ToString() => $"{UserPrincipalName}: {Operation} {Action}";
}
