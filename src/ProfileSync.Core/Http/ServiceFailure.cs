namespace ProfileSync.Core.Http;

/// <summary>
/// The one map from a failed answer (status, service error code) to an ErrorId, a category and
/// what the admin should do. A rejected token or a missing permission is the same for every user,
/// so those failures stop the run (one terminating error) instead of failing each user.
/// </summary>
public static class ServiceFailure
{
    /// <summary>What the permission missing most likely is, for a 403 answer.</summary>
    public enum Need
    {
        /// <summary>Photo metadata or bytes on Graph.</summary>
        GraphPhotoRead,
        /// <summary>Setting or removing photos on Graph.</summary>
        GraphPhotoWrite,
        /// <summary>Listing the tenant's users on Graph.</summary>
        GraphUserList,
        /// <summary>Reading profiles and files on SharePoint.</summary>
        SharePointRead,
        /// <summary>Writing other users' profiles and the photo library.</summary>
        SharePointAdmin,
        /// <summary>One file or resource that may be restricted on its own: a per-user failure.</summary>
        SingleResource,
    }

    public const string GraphPhotoPermission = "ProfilePhoto.Read.All (or User.Read.All) on Microsoft Graph, with admin consent";
    public const string GraphPhotoWritePermission = "ProfilePhoto.ReadWrite.All on Microsoft Graph, with admin consent";
    public const string GraphUserListPermission = "User.Read.All on Microsoft Graph, with admin consent";
    public const string SharePointReadPermission = "read access to user profiles on SharePoint (app-only: Sites.FullControl.All and User.Read.All on SharePoint; delegated: a SharePoint administrator)";
    public const string SharePointAdminPermission = "the SharePoint Administrator role (delegated sign-in) or, app-only, Sites.FullControl.All and User.ReadWrite.All on SharePoint";

    public static ProfileSyncException From(ServiceKind service, int status, string? code, string? message, string what, Need need, Exception? inner = null)
    {
        var serviceName = service == ServiceKind.Graph ? "Graph" : "SharePoint";
        var (id, kind, action, stops) = status switch
        {
            401 => (ErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                $"The {serviceName} token was rejected even after it was renewed. Run Connect-ProfileSync again; check that the app's token is for this tenant and service.", true),
            403 when need != Need.SingleResource => (ErrorIds.AccessDenied, FailureKind.AccessDenied, "Grant " + Permission(need) + ", then connect again.", true),
            403 => (ErrorIds.AccessDenied, FailureKind.AccessDenied, "The signed-in identity may not read this resource; check its permissions in SharePoint.", false),
            429 or 503 or 504 => (ErrorIds.Throttled, FailureKind.Throttled, $"{serviceName} kept throttling after all retries; run again later or with a lower -ThrottleLimit.", false),
            _ => (service == ServiceKind.Graph ? ErrorIds.ExchangeRequestFailed : ErrorIds.SharePointRequestFailed, FailureKind.ServiceError,
                "Run again; if it persists, check the Microsoft 365 service health.", false),
        };
        var text = $"{serviceName} answered {status}{(string.IsNullOrEmpty(code) ? "" : " " + code)} while {what}: {message ?? "no error text"}";
        if (stops && status == 403) text += $" The run needs {Permission(need)}.";
        return new ProfileSyncException(id, kind, text, inner)
        {
            Service = serviceName,
            StatusCode = status,
            ServiceErrorCode = code,
            RecommendedAction = action,
            StopsRun = stops,
        };
    }

    private static string Permission(Need need) => need switch
    {
        Need.GraphPhotoRead => GraphPhotoPermission,
        Need.GraphPhotoWrite => GraphPhotoWritePermission,
        Need.GraphUserList => GraphUserListPermission,
        Need.SharePointRead => SharePointReadPermission,
        _ => SharePointAdminPermission,
    };
}
