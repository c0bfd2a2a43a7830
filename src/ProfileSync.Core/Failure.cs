namespace ProfileSync.Core;

/// <summary>
/// One failure, carried whole from where it happened to the result and to the ErrorRecord: the
/// stable ErrorId, its category, which service answered (and how), the admin's next step and the
/// exception behind it. Messages never carry tokens.
/// </summary>
public sealed record Failure
{
    public required string ErrorId { get; init; }
    public FailureKind Kind { get; init; }
    public required string Message { get; init; }
    public required string RecommendedAction { get; init; }
    /// <summary>"Graph", "SharePoint", "Photo source", or null when no service was involved.</summary>
    public string? Service { get; init; }
    public int? HttpStatus { get; init; }
    /// <summary>The service's own error code (e.g. ImageNotFound, -2147024891).</summary>
    public string? ServiceErrorCode { get; init; }
    /// <summary>The same failure would meet every user (a rejected token, a missing permission): the run stops on it.</summary>
    public bool StopsRun { get; init; }
    /// <summary>The exception it came from, with its inner exception; null for a failure found without one (a bad row).</summary>
    public Exception? Exception { get; init; }
    /// <summary>The input row it belongs to (1-based), for a bad row; null when none.</summary>
    public int? InputIndex { get; init; }

    /// <summary>A failure by ErrorId, its kind and default action from <see cref="ErrorCatalog"/>; <paramref name="action"/> when the case knows better.</summary>
    public static Failure Of(string errorId, string message, string? action = null)
    {
        var entry = ErrorCatalog.For(errorId);
        return new Failure { ErrorId = errorId, Kind = entry.Kind, Message = message, RecommendedAction = action ?? entry.RecommendedAction };
    }

    /// <summary>What a worker's unexpected exception (or a stop before the user began) becomes: a failure still, never a lost user.</summary>
    public static Failure FromUnexpected(Exception ex, string errorId, string whenStopped) => ex switch
    {
        ProfileSyncException known => known.Failure,
        OperationCanceledException => Of(errorId, whenStopped) with { Exception = ex },
        _ => Of(errorId, $"{ex.GetType().Name}: {ex.Message}") with { Exception = ex },
    };

    /// <summary>The same failure with another message (a user's name put in front, a note added).</summary>
    public Failure WithMessage(string message) => this with { Message = message };

    /// <summary>An exception to throw or to put in an ErrorRecord: the original one when there is one.</summary>
    public ProfileSyncException ToException() => Exception as ProfileSyncException ?? new ProfileSyncException(this);

    public override string ToString() => $"{ErrorId}: {Message}";
}

/// <summary>
/// What each ErrorId means: its kind (and so its PowerShell category) and what the admin should do.
/// The README's error table ("### Errors") gives each ErrorId this same advice; a test holds them equal.
/// </summary>
public static class ErrorCatalog
{
    public readonly record struct Entry(FailureKind Kind, string RecommendedAction);

    private const string ServiceAdvice = "Run again; if it persists, run with -Verbose and check the Microsoft 365 service health.";
    private const string UnexpectedAdvice = "Run the command again for this user with -Verbose; report it if it persists.";

    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal)
    {
        [ErrorIds.InvalidUserPrincipalName] = new(FailureKind.InvalidInput, "Correct the row (a UPN such as adele@contoso.com, or an Entra object id, in a column UserPrincipalName, UPN, Mail, Email, Identity or UserId) and run again for it; the other rows go on."),
        [ErrorIds.UserNotFound] = new(FailureKind.NotFound, "Check the user principal name; guests use the form name_domain#EXT#@tenant.onmicrosoft.com."),
        [ErrorIds.SharePointProfileNotFound] = new(FailureKind.NotFound, "SharePoint creates a profile when the user first signs in to SharePoint or OneDrive, or at the next profile import; run again later."),
        [ErrorIds.NotConnected] = new(FailureKind.AuthenticationFailed, "Run Connect-ProfileSync -TenantName <name> with a sign-in method."),
        [ErrorIds.AuthenticationFailed] = new(FailureKind.AuthenticationFailed, "Run Connect-ProfileSync again; check that the app's token is for this tenant and service."),
        [ErrorIds.AccessDenied] = new(FailureKind.AccessDenied, "Grant the permission the message names (README, 'Sign-in'), then connect again."),
        [ErrorIds.Throttled] = new(FailureKind.Throttled, "Run again later or with a lower -ThrottleLimit."),
        [ErrorIds.ExchangeRequestFailed] = new(FailureKind.ServiceError, ServiceAdvice),
        [ErrorIds.SharePointRequestFailed] = new(FailureKind.ServiceError, ServiceAdvice),
        [ErrorIds.PhotoFolderNotFound] = new(FailureKind.NotFound, "Have one user open their profile once, or give Connect-ProfileSync -PhotoFolder '/User Photos/<folder>' as the My Site host's library shows it."),
        [ErrorIds.PhotoUnreadable] = new(FailureKind.InvalidData, "Replace the Exchange photo with a JPEG or PNG under 4 MB (Set-ProfilePhoto, or the Microsoft 365 admin center)."),
        [ErrorIds.SyncFailed] = new(FailureKind.ServiceError, UnexpectedAdvice),
        [ErrorIds.CheckFailed] = new(FailureKind.ServiceError, UnexpectedAdvice),
        [ErrorIds.InvalidParameter] = new(FailureKind.InvalidInput, "Correct the parameter as the message says."),
        [ErrorIds.ServiceUnreachable] = new(FailureKind.ConnectionError, "Check the network path and the endpoint parameters of Connect-ProfileSync, then run again."),
        [ErrorIds.SignInFailed] = new(FailureKind.AuthenticationFailed, "Check the sign-in parameters (tenant, client id, certificate) and the app registration, then connect again; where no browser can open (a server, SSH), use -UseDeviceCode."),
        [ErrorIds.NoUserColumn] = new(FailureKind.InvalidInput, "Name the user column UserPrincipalName, UPN, Mail, Email, Identity or UserId; Select-Object can rename it: Select-Object @{n='UserPrincipalName';e={$_.Login}}."),
        [ErrorIds.JournalRefused] = new(FailureKind.InvalidInput, "Give -JournalPath a new file for this run, or the journal this tenant's same command wrote."),
        [ErrorIds.ReportInputNotSupported] = new(FailureKind.InvalidInput, "Pipe the results of Get-PhotoSyncState, Sync-ProfilePhoto, Set-ProfilePhoto or Remove-ProfilePhoto into Export-PhotoSyncReport."),
        [ErrorIds.ReportNotWritten] = new(FailureKind.ServiceError, "Give -Path a file in a folder this account may write, or leave out -NoClobber."),
        [ErrorIds.NoPhotoSource] = new(FailureKind.InvalidInput, "Give each row one photo: a file path (Path, PhotoPath or File column) or an https URL (Url or SourceUrl column); the other rows go on."),
        [ErrorIds.PhotoSourceNotFound] = new(FailureKind.NotFound, "Correct the file path or URL in the row (a relative path is read from the current location); the other rows go on."),
        [ErrorIds.PhotoSourceRefused] = new(FailureKind.InvalidInput, "Give an https URL that serves the image itself (or -AllowHttp for a server you trust); the other rows go on."),
        [ErrorIds.PhotoSourceTooLarge] = new(FailureKind.InvalidInput, "Give a smaller image (Exchange keeps at most 648x648 pixels), or raise -MaxSourceMB; the other rows go on."),
        [ErrorIds.PhotoSourceUnreadable] = new(FailureKind.InvalidData, "Give the row a JPEG or PNG photo of at least 96x96 pixels (Exchange keeps 648x648); the other rows go on."),
        [ErrorIds.PhotoSourceFailed] = new(FailureKind.ConnectionError, "Check that the URL opens in a browser from this machine (or raise -TimeoutSeconds), then run again for the row."),
        [ErrorIds.DuplicateUser] = new(FailureKind.InvalidInput, "Keep one row per user."),
        [ErrorIds.ProfileWriteRefused] = new(FailureKind.AccessDenied, SharePoint.ProfileWriteRights.AnyAction),
        [ErrorIds.PhotoFolderTooLarge] = new(FailureKind.ServiceError, "Create a new folder in the My Site host's 'User Photos' library and give it to Connect-ProfileSync -PhotoFolder '/User Photos/<folder>'."),
        [ErrorIds.CleanupFailed] = new(FailureKind.ServiceError, "Nothing is needed for the photo itself; delete the files the message names from the User Photos library when convenient."),
    };

    public static Entry For(string errorId) =>
        Entries.TryGetValue(errorId, out var entry) ? entry : new(FailureKind.ServiceError, ServiceAdvice);

    /// <summary>Every ErrorId with its entry (the README's table is held equal to it).</summary>
    public static IReadOnlyDictionary<string, Entry> All => Entries;

    public static bool Has(string errorId) => Entries.ContainsKey(errorId);
}
