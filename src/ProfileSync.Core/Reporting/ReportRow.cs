using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Reporting;

/// <summary>
/// One user's line in a report, from a state check, a sync result, or a Set-/Remove-ProfilePhoto result.
/// Every text in it is user-controlled data.
/// </summary>
public sealed record ReportRow
{
    public required string UserPrincipalName { get; init; }
    public string? DisplayName { get; init; }
    /// <summary>The state checked (before a sync); null for a Set/Remove row, which checks no state.</summary>
    public PhotoState? State { get; init; }
    /// <summary>"Set" or "Remove" for a Set-/Remove-ProfilePhoto row; null otherwise.</summary>
    public string? Operation { get; init; }
    /// <summary>What a sync, Set or Remove did (Updated, WouldUpdate, Removed...); null for a state check.</summary>
    public string? Action { get; init; }
    public string? Reason { get; init; }
    public string? ErrorId { get; init; }
    public ComparisonMethod ComparedBy { get; init; }
    public double? Distance { get; init; }
    public string? ExchangePhotoETag { get; init; }
    public string? SharePointPictureUrl { get; init; }
    /// <summary>Set/Remove rows: what happened on each side.</summary>
    public SideOutcome? Exchange { get; init; }
    public SideOutcome? SharePoint { get; init; }
    public DateTimeOffset CheckedAt { get; init; }

    /// <summary>Rank in a report, 0 first: failed changes with the errors, then as the state ranks (PhotoStateRules), changes after the checks.</summary>
    public int AttentionOrder => State is { } state ? PhotoStateRules.For(state).AttentionOrder
        : Action == nameof(ChangeAction.Failed) ? 0 : int.MaxValue;

    /// <summary>The commands whose results a report takes.</summary>
    public const string Producers = "Get-PhotoSyncState, Sync-ProfilePhoto, Set-ProfilePhoto or Remove-ProfilePhoto";

    /// <summary>The row of one of those results; null for anything else.</summary>
    public static ReportRow? FromResult(object result) => result switch
    {
        PhotoSyncState state => From(state),
        PhotoSyncResult sync => From(sync),
        PhotoChangeResult change => From(change),
        _ => null,
    };

    public static ReportRow From(PhotoSyncState state) => new()
    {
        UserPrincipalName = state.UserPrincipalName,
        DisplayName = state.DisplayName,
        State = state.State,
        Reason = state.Reason,
        ErrorId = state.ErrorId,
        ComparedBy = state.ComparedBy,
        Distance = state.Distance,
        ExchangePhotoETag = state.ExchangePhotoETag,
        SharePointPictureUrl = state.SharePointPictureUrl,
        CheckedAt = state.CheckedAt,
    };

    public static ReportRow From(PhotoSyncResult result) => new()
    {
        UserPrincipalName = result.UserPrincipalName,
        DisplayName = result.Check?.DisplayName,
        State = result.StateBefore,
        Action = result.Action.ToString(),
        Reason = result.Error ?? result.Reason,
        ErrorId = result.ErrorId,
        ComparedBy = result.Check?.ComparedBy ?? ComparisonMethod.None,
        Distance = result.Check?.Distance,
        ExchangePhotoETag = result.Check?.ExchangePhotoETag,
        SharePointPictureUrl = result.PictureUrl ?? result.Check?.SharePointPictureUrl,
        CheckedAt = result.Check?.CheckedAt ?? DateTimeOffset.UtcNow,
    };

    public static ReportRow From(PhotoChangeResult change) => new()
    {
        UserPrincipalName = change.UserPrincipalName,
        Operation = change.Operation,
        Action = change.Action.ToString(),
        Reason = change.Reason,
        ErrorId = change.ErrorId,
        SharePointPictureUrl = change.PictureUrl,
        Exchange = change.Exchange,
        SharePoint = change.SharePoint,
        CheckedAt = DateTimeOffset.UtcNow,
    };
}

public enum ReportFormat { Html, Csv }

public static class ReportFormats
{
    /// <summary>The format a file name asks for: .html or .htm, .csv; null for any other extension.</summary>
    public static ReportFormat? FromPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => ReportFormat.Html,
        ".csv" => ReportFormat.Csv,
        _ => null,
    };
}
