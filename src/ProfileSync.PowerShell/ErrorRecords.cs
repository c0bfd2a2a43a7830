using System.Management.Automation;
using ProfileSync.Core;

namespace ProfileSync.PowerShell;

/// <summary>Builds ErrorRecords with stable ErrorIds, a category, the user as target and a recommended action.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(ProfileSyncException ex, object? target) =>
        Make(ex, ex.ErrorId, Category(ex.Kind), target, ex.RecommendedAction);

    public static ErrorRecord For(string errorId, string message, object? target, string? recommendedAction = null) =>
        Make(new ProfileSyncException(errorId, KindOf(errorId), message) { RecommendedAction = recommendedAction }, errorId, Category(KindOf(errorId)), target, recommendedAction);

    private static ErrorRecord Make(Exception ex, string errorId, ErrorCategory category, object? target, string? action)
    {
        var record = new ErrorRecord(ex, errorId, category, target);
        if (action is not null) record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = action };
        return record;
    }

    /// <summary>The failure kind behind each ErrorId that results carry without an exception.</summary>
    internal static FailureKind KindOf(string errorId) => errorId switch
    {
        ErrorIds.InvalidUserPrincipalName or ErrorIds.InvalidParameter or ErrorIds.NoUserColumn or ErrorIds.ReportInputNotSupported
            or ErrorIds.NoPhotoSource or ErrorIds.PhotoSourceRefused or ErrorIds.DuplicateUser => FailureKind.InvalidInput,
        ErrorIds.UserNotFound or ErrorIds.SharePointProfileNotFound or ErrorIds.PhotoFolderNotFound or ErrorIds.PhotoSourceNotFound => FailureKind.NotFound,
        ErrorIds.AuthenticationFailed or ErrorIds.NotConnected or ErrorIds.SignInFailed => FailureKind.AuthenticationFailed,
        ErrorIds.AccessDenied => FailureKind.AccessDenied,
        ErrorIds.Throttled => FailureKind.Throttled,
        ErrorIds.PhotoUnreadable => FailureKind.InvalidData,
        ErrorIds.ServiceUnreachable or ErrorIds.PhotoSourceFailed => FailureKind.ConnectionError,
        _ => FailureKind.ServiceError,
    };

    internal static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.InvalidInput => ErrorCategory.InvalidArgument,
        FailureKind.NotFound => ErrorCategory.ObjectNotFound,
        FailureKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        FailureKind.AccessDenied => ErrorCategory.PermissionDenied,
        FailureKind.Throttled => ErrorCategory.LimitsExceeded,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.ConnectionError => ErrorCategory.ConnectionError,
        _ => ErrorCategory.ResourceUnavailable,
    };

    public static string? RecommendedActionFor(string errorId) => errorId switch
    {
        ErrorIds.UserNotFound => "Check the user principal name; guests use the form name_domain#EXT#@tenant.onmicrosoft.com.",
        ErrorIds.SharePointProfileNotFound => "SharePoint creates a profile when the user first signs in to SharePoint or OneDrive, or at the next profile import; run again later.",
        ErrorIds.PhotoUnreadable => "Replace the Exchange photo with a JPEG or PNG under 4 MB (Set-MgUserPhotoContent or the Microsoft 365 admin center).",
        ErrorIds.AccessDenied => "Check the permissions listed in the README (ProfilePhoto.Read.All on Graph; SharePoint administrator for profile writes).",
        ErrorIds.Throttled => "Run again later or with a lower -ThrottleLimit.",
        ErrorIds.ServiceUnreachable => "Check the network path and the endpoint parameters of Connect-ProfileSync, then run again.",
        _ => "Run again; if it persists, run with -Verbose and check the Microsoft 365 service health.",
    };
}
