namespace ProfileSync.Core;

/// <summary>What kind of failure, so the cmdlet layer can pick the PowerShell error category without parsing text.</summary>
public enum FailureKind
{
    InvalidInput,
    NotFound,
    AuthenticationFailed,
    AccessDenied,
    Throttled,
    ServiceError,
    InvalidData,
    ConnectionError,
}

/// <summary>
/// A failure with a stable ErrorId (documented in the README) and a message that names the user
/// and says what to do. Messages never carry tokens: they are built from status codes and the
/// services' own error codes, never from request headers.
/// </summary>
public sealed class ProfileSyncException : Exception
{
    public ProfileSyncException(string errorId, FailureKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    /// <summary>An exception for a failure found without one (a bad row, a refused source).</summary>
    public ProfileSyncException(Failure failure) : base(failure.Message)
    {
        ErrorId = failure.ErrorId;
        Kind = failure.Kind;
        Service = failure.Service;
        StatusCode = failure.HttpStatus;
        ServiceErrorCode = failure.ServiceErrorCode;
        RecommendedAction = failure.RecommendedAction;
        StopsRun = failure.StopsRun;
        InputIndex = failure.InputIndex;
    }

    /// <summary>This failure as results and ErrorRecords carry it: the action the case knows, else the ErrorId's own.</summary>
    public Failure Failure => new()
    {
        ErrorId = ErrorId, Kind = Kind, Message = Message, RecommendedAction = RecommendedAction ?? ErrorCatalog.For(ErrorId).RecommendedAction,
        Service = Service, HttpStatus = StatusCode, ServiceErrorCode = ServiceErrorCode, StopsRun = StopsRun, Exception = this, InputIndex = InputIndex,
    };

    /// <summary>"Graph" or "SharePoint" when a service answered (or failed to).</summary>
    public string? Service { get; init; }

    public string ErrorId { get; }
    public FailureKind Kind { get; }
    /// <summary>HTTP status of the answer that failed, when there was one.</summary>
    public int? StatusCode { get; init; }
    /// <summary>The service's own error code (e.g. ImageNotFound, -2147024894).</summary>
    public string? ServiceErrorCode { get; init; }
    public string? RecommendedAction { get; init; }
    /// <summary>The input row (1-based) a bad-row error belongs to; null for any other failure.</summary>
    public int? InputIndex { get; init; }
    /// <summary>The same failure would meet every user (a rejected token, a missing permission): the cmdlet stops the run with one error.</summary>
    public bool StopsRun { get; init; }
}

/// <summary>The ErrorIds ProfileSync writes. Stable: scripts may match on them.</summary>
public static class ErrorIds
{
    public const string InvalidUserPrincipalName = "InvalidUserPrincipalName";
    public const string UserNotFound = "UserNotFound";
    public const string SharePointProfileNotFound = "SharePointProfileNotFound";
    public const string NotConnected = "NotConnected";
    public const string AuthenticationFailed = "AuthenticationFailed";
    public const string AccessDenied = "AccessDenied";
    public const string Throttled = "Throttled";
    public const string ExchangeRequestFailed = "ExchangeRequestFailed";
    public const string SharePointRequestFailed = "SharePointRequestFailed";
    public const string PhotoFolderNotFound = "PhotoFolderNotFound";
    public const string PhotoUnreadable = "PhotoUnreadable";
    public const string SyncFailed = "SyncFailed";
    public const string CheckFailed = "CheckFailed";
    public const string InvalidParameter = "InvalidParameter";
    public const string ServiceUnreachable = "ServiceUnreachable";
    public const string SignInFailed = "SignInFailed";
    public const string NoUserColumn = "NoUserColumn";
    public const string JournalRefused = "JournalRefused";
    public const string ReportInputNotSupported = "ReportInputNotSupported";
    public const string ReportNotWritten = "ReportNotWritten";
    public const string NoPhotoSource = "NoPhotoSource";
    public const string PhotoSourceNotFound = "PhotoSourceNotFound";
    public const string PhotoSourceRefused = "PhotoSourceRefused";
    public const string PhotoSourceFailed = "PhotoSourceFailed";
    public const string PhotoSourceTooLarge = "PhotoSourceTooLarge";
    public const string PhotoSourceUnreadable = "PhotoSourceUnreadable";
    public const string DuplicateUser = "DuplicateUser";
    public const string CleanupFailed = "CleanupFailed";
    public const string ProfileWriteRefused = "ProfileWriteRefused";
    public const string PhotoFolderTooLarge = "PhotoFolderTooLarge";
}
