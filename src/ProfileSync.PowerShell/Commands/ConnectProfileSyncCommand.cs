using System.Collections.Concurrent;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using ProfileSync.Core;
using ProfileSync.Core.Http;
using ProfileSync.Core.SignIn;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Signs in to a tenant and makes the connection the session's current one (or returns it with
/// -ReturnConnection). Every method goes through Azure.Identity; both services' tokens are asked
/// for here, so a prompt or a wrong credential shows now, not in the middle of a run.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "ProfileSync", DefaultParameterSetName = InteractiveSet)]
[OutputType(typeof(ProfileSyncConnectionInfo))]
public sealed class ConnectProfileSyncCommand : PSCmdlet
{
    private const string InteractiveSet = "Interactive";
    private const string DeviceCodeSet = "DeviceCode";
    private const string ThumbprintSet = "CertificateThumbprint";
    private const string CertificatePathSet = "CertificatePath";
    private const string CertificateSet = "Certificate";
    private const string ManagedIdentitySet = "ManagedIdentity";
    private const string AccessTokenSet = "AccessToken";

    /// <summary>The tenant: 'contoso', 'contoso.onmicrosoft.com', 'contoso.sharepoint.com', or its admin or My Site host ('contoso-admin', a URL): all mean 'contoso'.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string TenantName { get; set; } = "";

    /// <summary>Application (client) id of your app registration.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InteractiveSet)]
    [Parameter(Mandatory = true, ParameterSetName = DeviceCodeSet)]
    [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
    [Parameter(Mandatory = true, ParameterSetName = CertificatePathSet)]
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [ValidateNotNullOrEmpty]
    public string ClientId { get; set; } = "";

    /// <summary>Directory (tenant) id or verified domain. Default: TENANT.onmicrosoft.com (or the cloud's equivalent).</summary>
    [Parameter(ParameterSetName = InteractiveSet)]
    [Parameter(ParameterSetName = DeviceCodeSet)]
    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CertificatePathSet)]
    [Parameter(ParameterSetName = CertificateSet)]
    public string? TenantId { get; set; }

    /// <summary>Seconds the browser sign-in may take before it ends in SignInFailed (a browser that opened nowhere never answers).</summary>
    [Parameter(ParameterSetName = InteractiveSet)]
    [ValidateRange(1, 3600)]
    public int TimeoutSeconds { get; set; } = (int)BrowserSignIn.DefaultTimeout.TotalSeconds;

    /// <summary>Sign in with a code shown here and entered in a browser elsewhere (no browser on this machine).</summary>
    [Parameter(Mandatory = true, ParameterSetName = DeviceCodeSet)]
    public SwitchParameter UseDeviceCode { get; set; }

    /// <summary>Thumbprint of a certificate with its private key in CurrentUser\My or LocalMachine\My.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
    [ValidateNotNullOrEmpty]
    public string CertificateThumbprint { get; set; } = "";

    /// <summary>A .pfx file with the certificate and its private key.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificatePathSet)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = "";

    /// <summary>The .pfx file's password.</summary>
    [Parameter(ParameterSetName = CertificatePathSet)]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>A certificate object with its private key.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    public X509Certificate2 Certificate { get; set; } = null!;

    /// <summary>Sign in as the managed identity of this Azure Automation account, VM or App Service.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ManagedIdentitySet)]
    public SwitchParameter ManagedIdentity { get; set; }

    /// <summary>Client id of a user-assigned managed identity; without it the system-assigned one is used.</summary>
    [Parameter(ParameterSetName = ManagedIdentitySet)]
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>A bearer token for Microsoft Graph (audience https://graph.microsoft.com).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
    public SecureString GraphAccessToken { get; set; } = null!;

    /// <summary>A bearer token for SharePoint Online (audience https://TENANT.sharepoint.com).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
    public SecureString SharePointAccessToken { get; set; } = null!;

    /// <summary>The cloud: sets the Graph, SharePoint and sign-in hosts. Explicit endpoint parameters still win.</summary>
    [Parameter]
    public CloudEnvironment Environment { get; set; } = CloudEnvironment.Global;

    /// <summary>Graph service root; the module adds /v1.0. Default: the cloud's Graph host.</summary>
    [Parameter]
    public Uri? GraphEndpoint { get; set; }

    /// <summary>My Site host. Default https://TENANT-my.sharepoint.com (or the cloud's suffix).</summary>
    [Parameter]
    public Uri? MySiteHostUrl { get; set; }

    /// <summary>SharePoint admin site. Default https://TENANT-admin.sharepoint.com (or the cloud's suffix).</summary>
    [Parameter]
    public Uri? SharePointAdminUrl { get; set; }

    /// <summary>Server-relative photo folder, e.g. '/User Photos/Profile Pictures'. Default: discovered from the library.</summary>
    [Parameter]
    public string? PhotoFolder { get; set; }

    /// <summary>
    /// The tenant's licence band, which sets SharePoint's per-app and PeopleManager ceilings. Default:
    /// read from Graph /subscribedSkus (needs Organization.Read.All); when that is refused, the smallest band.
    /// </summary>
    [Parameter]
    public TenantSizeBand? TenantSize { get; set; }

    /// <summary>
    /// Ceilings (default): pace SharePoint requests under the tenant's documented ceilings. Adaptive:
    /// only by what SharePoint answers (429 Retry-After, RateLimit headers): for a tenant where
    /// ProfileSync runs alone off-peak, or a SharePoint that is not SharePoint Online.
    /// </summary>
    [Parameter]
    public SharePointPacing Pacing { get; set; } = SharePointPacing.Ceilings;

    /// <summary>The part of the tenant's PeopleManager ceiling (shared with every app of the tenant) ProfileSync may spend.</summary>
    [Parameter]
    [ValidateRange(0.05, 1.0)]
    public double PeopleManagerShare { get; set; } = SharePointCeilings.DefaultPeopleManagerShare;

    /// <summary>Also write the connection's description to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Return the connection for -Connection instead of making it the session's current one (one script, several tenants).</summary>
    [Parameter]
    public SwitchParameter ReturnConnection { get; set; }

    private readonly CancellationTokenSource _stop = new();

    protected override void StopProcessing() => _stop.Cancel();

    protected override void EndProcessing()
    {
        // Browser sign-in where no browser can reach the admin would wait for nothing: refused at once, with the way that works.
        if (ParameterSetName == InteractiveSet && SessionDisplay.Current() is { CanShowBrowser: false } display)
            ThrowTerminatingError(ErrorRecords.From(BrowserSignIn.NoDisplay(display).Failure, TenantName));

        ProfileSyncConnection connection;
        var messages = new ConcurrentQueue<string>();
        try
        {
            var endpoints = ServiceEndpoints.ForTenant(TenantName, Environment, GraphEndpoint, MySiteHostUrl, SharePointAdminUrl);
            if (!string.Equals(endpoints.TenantName, TenantName.Trim(), StringComparison.OrdinalIgnoreCase))
                WriteVerbose($"Tenant '{endpoints.TenantName}' (from -TenantName '{TenantName}').");
            connection = ProfileSyncConnection.Create(endpoints, Request(messages.Enqueue), PhotoFolder,
                httpOptions: new HttpPipelineOptions { TenantSize = TenantSize, PeopleManagerShare = PeopleManagerShare, Pacing = Pacing });
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.InvalidParameter, ex.Message, TenantName));
            return;
        }
        catch (ProfileSyncException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex.Failure, TenantName));
            return;
        }

        WriteVerbose($"Signing in ({connection.AuthenticationMethod}) to {connection.Endpoints.TenantName}: Graph {connection.Endpoints.GraphBaseUrl}, My Site {connection.Endpoints.MySiteHost}, admin {connection.Endpoints.SharePointAdmin}; scopes {connection.Endpoints.GraphScope} and {connection.Endpoints.SharePointScope}.");
        foreach (var note in connection.SignInNotes) WriteVerbose(note);
        if (connection.SignInTimeout is { } timeout) WriteWarning(BrowserSignIn.Waiting(timeout));
        // The credential calls back on a worker thread (device code): its text is queued and written here, on the pipeline thread.
        var signIn = connection.SignInAsync(_stop.Token);
        while (!((IAsyncResult)signIn).AsyncWaitHandle.WaitOne(100))
            while (messages.TryDequeue(out var text)) WriteWarning(text);
        while (messages.TryDequeue(out var last)) WriteWarning(last);
        if (signIn.IsCanceled || _stop.IsCancellationRequested)
        {
            connection.Dispose();
            throw new PipelineStoppedException();
        }
        if (signIn.Exception?.GetBaseException() is { } failure)
        {
            connection.Dispose();
            ThrowTerminatingError(failure is ProfileSyncException p
                ? ErrorRecords.From(p.Failure, TenantName)
                : ErrorRecords.For(ErrorIds.SignInFailed, $"Sign-in failed: {failure.Message}", TenantName));
            return;
        }

        // The SharePoint pacer's model of the three ceilings: the band given, or read from the licences.
        var ceilings = connection.ApplyCeilingsAsync(_stop.Token);
        ((IAsyncResult)ceilings).AsyncWaitHandle.WaitOne();
        if (ceilings.IsCanceled || _stop.IsCancellationRequested)
        {
            connection.Dispose();
            throw new PipelineStoppedException();
        }
        if (ceilings.Exception?.GetBaseException() is { } ceilingFailure)
            WriteWarning($"The SharePoint ceilings could not be set ({ceilingFailure.Message}); the pacer learns from 429s only.");
        else if (ceilings.Result is null)
            WriteVerbose("SharePoint pacing: adaptive (-Pacing Adaptive): only by SharePoint's own answers, no ceilings modelled.");
        else
        {
            if (ceilings.Result.Warning is { } warning) WriteWarning(warning);
            WriteVerbose($"SharePoint pacing: {ceilings.Result}.");
        }

        var info = ProfileSyncConnectionInfo.From(connection);
        if (ReturnConnection)
        {
            WriteObject(info);
            return;
        }
        ProfileSyncSession.Set(connection);
        WriteVerbose($"Connected to {connection.Endpoints.TenantName} ({connection.AuthenticationMethod}).");
        if (PassThru) WriteObject(info);
    }

    private SignInRequest Request(Action<string> showDeviceCode) => ParameterSetName switch
    {
        AccessTokenSet => new SignInRequest { Method = SignInMethod.AccessToken, GraphAccessToken = GraphAccessToken, SharePointAccessToken = SharePointAccessToken },
        ManagedIdentitySet => new SignInRequest
        {
            Method = SignInMethod.ManagedIdentity,
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(ManagedIdentityClientId) ? null : ManagedIdentityClientId.Trim(),
        },
        ThumbprintSet => Certificated(CertificateFiles.FromStore(CertificateThumbprint)),
        CertificatePathSet => Certificated(CertificateFiles.FromFile(SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificatePath), CertificatePassword)),
        CertificateSet => Certificated(Certificate),
        DeviceCodeSet => new SignInRequest { Method = SignInMethod.DeviceCode, ClientId = ClientId, TenantId = TenantId, DeviceCodeMessage = showDeviceCode },
        _ => new SignInRequest { Method = SignInMethod.Interactive, ClientId = ClientId, TenantId = TenantId, Timeout = TimeSpan.FromSeconds(TimeoutSeconds) },
    };

    private SignInRequest Certificated(X509Certificate2 certificate) =>
        new() { Method = SignInMethod.Certificate, ClientId = ClientId, TenantId = TenantId, Certificate = certificate };
}

/// <summary>Ends the session's connection (or the one given).</summary>
[Cmdlet(VerbsCommunications.Disconnect, "ProfileSync")]
public sealed class DisconnectProfileSyncCommand : PSCmdlet
{
    /// <summary>A connection from Connect-ProfileSync -ReturnConnection; default the session's current one.</summary>
    [Parameter(ValueFromPipeline = true)]
    public ProfileSyncConnectionInfo? Connection { get; set; }

    protected override void ProcessRecord()
    {
        if (Connection is not null)
        {
            ProfileSyncSession.Disconnect(Connection.Connection);
            WriteVerbose($"Disconnected from {Connection.TenantName}.");
            return;
        }
        if (ProfileSyncSession.Current is null)
        {
            WriteVerbose("Not connected; nothing to do.");
            return;
        }
        ProfileSyncSession.Disconnect();
        WriteVerbose("Disconnected.");
    }
}

/// <summary>Who is signed in, how, to which tenant and endpoints, and when the tokens expire. Never the tokens.</summary>
[Cmdlet(VerbsCommon.Get, "ProfileSyncConnection")]
[OutputType(typeof(ProfileSyncConnectionInfo))]
public sealed class GetProfileSyncConnectionCommand : PSCmdlet
{
    protected override void EndProcessing()
    {
        if (ProfileSyncSession.Current is { } current) WriteObject(ProfileSyncConnectionInfo.From(current));
    }
}

/// <summary>What a connection is, without any secret; also what -Connection takes.</summary>
public sealed class ProfileSyncConnectionInfo
{
    internal ProfileSyncConnection Connection { get; private init; } = null!;

    public string TenantName { get; private init; } = "";
    public string? TenantId { get; private init; }
    public string Environment { get; private init; } = "";
    public string AuthenticationMethod { get; private init; } = "";
    public string? ClientId { get; private init; }
    public Uri GraphEndpoint { get; private init; } = null!;
    public Uri MySiteHostUrl { get; private init; } = null!;
    public Uri SharePointAdminUrl { get; private init; } = null!;
    public string GraphScope { get; private init; } = "";
    public string SharePointScope { get; private init; } = "";
    /// <summary>Read live: the token is renewed before it expires.</summary>
    public DateTimeOffset? GraphTokenExpiresOn => Connection.GraphToken.ExpiresOn;
    public DateTimeOffset? SharePointTokenExpiresOn => Connection.SharePointToken.ExpiresOn;
    public DateTimeOffset ConnectedAt { get; private init; }
    public bool IsDisconnected => Connection.IsDisposed;

    internal static ProfileSyncConnectionInfo From(ProfileSyncConnection c) => new()
    {
        Connection = c,
        TenantName = c.Endpoints.TenantName,
        TenantId = c.TenantId,
        Environment = c.Endpoints.Cloud.Environment.ToString(),
        AuthenticationMethod = c.AuthenticationMethod,
        ClientId = c.ClientId,
        GraphEndpoint = c.Endpoints.GraphRoot,
        MySiteHostUrl = c.Endpoints.MySiteHost,
        SharePointAdminUrl = c.Endpoints.SharePointAdmin,
        GraphScope = c.Endpoints.GraphScope,
        SharePointScope = c.Endpoints.SharePointScope,
        ConnectedAt = c.ConnectedAt,
    };

    public override string ToString() => $"{TenantName} ({AuthenticationMethod})";
}
