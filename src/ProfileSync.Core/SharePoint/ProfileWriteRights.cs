using ProfileSync.Core.SignIn;

namespace ProfileSync.Core.SharePoint;

/// <summary>
/// Whether the sign-in may write other users' profiles, and what to grant when it may not. SharePoint
/// refuses in two shapes, both for every user of a run: 403 -2147024891 System.UnauthorizedAccessException
/// "Access denied" (app-only without the SharePoint application permission User.ReadWrite.All:
/// Microsoft's documented case), and 500 Microsoft.SharePoint.SPException "This operation requires
/// you to be managing your own data or have administrator privileges." (reported for delegated
/// admins and managed identities). Neither is a per-user fault, so either stops the run.
/// </summary>
public static class ProfileWriteRights
{
    public const string ReadmeSection = "README, 'Profile write rights'";

    private const string AppOnlyAction =
        "Grant the app the SharePoint application permission User.ReadWrite.All (API 'Office 365 SharePoint Online', with admin consent; Microsoft's documented fix), then connect again. " + "See " + ReadmeSection + ".";
    private const string DelegatedAction =
        "Sign in as a SharePoint Administrator. If the tenant still refuses (reported for delegated sign-in in some tenants), sign in app-only with a certificate and grant the app the SharePoint application permission User.ReadWrite.All. See " + ReadmeSection + ".";
    public const string AnyAction =
        "App-only sign-in (certificate, managed identity): grant the SharePoint application permission User.ReadWrite.All with admin consent. Delegated sign-in: sign in as a SharePoint Administrator, or use app-only. See " + ReadmeSection + ".";

    /// <summary>
    /// The harmless write that proves the right before anything else is written: the user's
    /// SPS-PictureTimestamp set to the value it already has. A refusal throws <see cref="Refused"/>'s exception.
    /// </summary>
    public static Task ProveAsync(SharePointRestClient sharePoint, Identity.UserRef user, SharePointProfile profile, CancellationToken cancellationToken) =>
        sharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PictureTimestampProperty, profile.PictureTimestamp ?? "", cancellationToken);

    /// <summary>Whether a failed profile write is the sign-in's missing right (not the user's or the service's fault).</summary>
    public static bool IsRefusal(int status, string? serviceCode) =>
        status == 403 || (status == 500 && serviceCode?.EndsWith("Microsoft.SharePoint.SPException", StringComparison.Ordinal) == true);

    public static ProfileSyncException Refused(int status, string? code, string? message, string property, string user, SignInKind kind) =>
        new(ErrorIds.ProfileWriteRefused, FailureKind.AccessDenied,
            $"SharePoint refused to write {property} of '{user}' ({status} {code}: {message ?? "no error text"}). This sign-in ({SignInKinds.Describe(kind)}) may not write other users' profiles; a sync stops at the first such refusal.")
        {
            Service = "SharePoint", StatusCode = status, ServiceErrorCode = code, StopsRun = true,
            RecommendedAction = kind switch { SignInKind.AppOnly => AppOnlyAction, SignInKind.Delegated => DelegatedAction, _ => AnyAction },
        };
}
