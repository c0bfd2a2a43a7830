using System.Management.Automation;
using System.Security;
using ProfileSync.Core;
using ProfileSync.Core.Http;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Connects to a tenant. This release signs in with pre-acquired tokens, one per service; the
/// interactive, certificate and managed-identity parameter sets add token sources, nothing else.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "ProfileSync", DefaultParameterSetName = AccessTokenSet)]
[OutputType(typeof(ProfileSyncConnectionInfo))]
public sealed class ConnectProfileSyncCommand : PSCmdlet
{
    private const string AccessTokenSet = "AccessToken";

    /// <summary>The tenant: 'contoso' or 'contoso.onmicrosoft.com'.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string TenantName { get; set; } = "";

    /// <summary>A bearer token for Microsoft Graph (audience https://graph.microsoft.com).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
    public SecureString GraphAccessToken { get; set; } = null!;

    /// <summary>A bearer token for SharePoint Online (audience https://TENANT.sharepoint.com).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
    public SecureString SharePointAccessToken { get; set; } = null!;

    /// <summary>Graph service root; the module adds /v1.0. Default https://graph.microsoft.com.</summary>
    [Parameter]
    public Uri? GraphEndpoint { get; set; }

    /// <summary>My Site host. Default https://TENANT-my.sharepoint.com.</summary>
    [Parameter]
    public Uri? MySiteHostUrl { get; set; }

    /// <summary>SharePoint admin site. Default https://TENANT-admin.sharepoint.com.</summary>
    [Parameter]
    public Uri? SharePointAdminUrl { get; set; }

    /// <summary>Server-relative photo folder, e.g. '/User Photos/Profile Pictures'. Default: discovered from the library.</summary>
    [Parameter]
    public string? PhotoFolder { get; set; }

    /// <summary>Write the connection's description to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        ServiceEndpoints endpoints;
        try
        {
            endpoints = ServiceEndpoints.ForTenant(TenantName, GraphEndpoint, MySiteHostUrl, SharePointAdminUrl);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.InvalidParameter, ex.Message, TenantName));
            return;
        }
        IAccessTokenSource graph, sharePoint;
        try
        {
            graph = new PreAcquiredTokenSource(GraphAccessToken);
            sharePoint = new PreAcquiredTokenSource(SharePointAccessToken);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.InvalidParameter, ex.Message, null));
            return;
        }
        var connection = new ProfileSyncConnection(endpoints, graph, sharePoint, "AccessToken", PhotoFolder);
        ProfileSyncSession.Set(connection);
        WriteVerbose($"Connected to {endpoints.TenantName}: Graph {endpoints.GraphBaseUrl}, My Site {endpoints.MySiteHost}, admin {endpoints.SharePointAdmin}.");
        if (PassThru) WriteObject(ProfileSyncConnectionInfo.From(connection));
    }
}

/// <summary>What a connection is, without any secret.</summary>
public sealed class ProfileSyncConnectionInfo
{
    public string TenantName { get; init; } = "";
    public string AuthenticationMethod { get; init; } = "";
    public Uri GraphEndpoint { get; init; } = null!;
    public Uri MySiteHostUrl { get; init; } = null!;
    public Uri SharePointAdminUrl { get; init; } = null!;
    public DateTimeOffset ConnectedAt { get; init; }

    internal static ProfileSyncConnectionInfo From(ProfileSyncConnection c) => new()
    {
        TenantName = c.Endpoints.TenantName,
        AuthenticationMethod = c.AuthenticationMethod,
        GraphEndpoint = c.Endpoints.GraphRoot,
        MySiteHostUrl = c.Endpoints.MySiteHost,
        SharePointAdminUrl = c.Endpoints.SharePointAdmin,
        ConnectedAt = c.ConnectedAt,
    };
}
