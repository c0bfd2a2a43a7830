using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Reporting;

/// <summary>One user's line in a report, from a state check or a sync result. Every text in it is user-controlled data.</summary>
public sealed record ReportRow
{
    public required string UserPrincipalName { get; init; }
    public string? DisplayName { get; init; }
    public required PhotoState State { get; init; }
    /// <summary>What a sync did; null for a state check.</summary>
    public SyncAction? Action { get; init; }
    public string? Reason { get; init; }
    public string? ErrorId { get; init; }
    public ComparisonMethod ComparedBy { get; init; }
    public double? Distance { get; init; }
    public string? ExchangePhotoETag { get; init; }
    public string? SharePointPictureUrl { get; init; }
    public DateTimeOffset CheckedAt { get; init; }

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
        Action = result.Action,
        Reason = result.Error ?? result.Reason,
        ErrorId = result.ErrorId,
        ComparedBy = result.Check?.ComparedBy ?? ComparisonMethod.None,
        Distance = result.Check?.Distance,
        ExchangePhotoETag = result.Check?.ExchangePhotoETag,
        SharePointPictureUrl = result.PictureUrl ?? result.Check?.SharePointPictureUrl,
        CheckedAt = result.Check?.CheckedAt ?? DateTimeOffset.UtcNow,
    };
}
