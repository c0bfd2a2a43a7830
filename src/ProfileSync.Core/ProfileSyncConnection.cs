using ProfileSync.Core.Exchange;
using ProfileSync.Core.Http;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.SignIn;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core;

/// <summary>
/// One signed-in tenant: endpoints, the token source of each service, the shared HTTP pipeline and
/// the service clients built on it: what outlives a run. Everything of one run lives in its
/// <see cref="Runs.UserRun{TPending, TOutcome}"/>. Sign-in methods differ only in the token sources they pass.
/// </summary>
public sealed class ProfileSyncConnection : IDisposable
{
    public ProfileSyncConnection(ServiceEndpoints endpoints, IAccessTokenSource graphToken, IAccessTokenSource sharePointToken,
        string authenticationMethod, string? photoFolder = null, HttpPipelineOptions? httpOptions = null, HttpMessageHandler? transport = null)
    {
        Endpoints = endpoints;
        AuthenticationMethod = authenticationMethod;
        GraphToken = graphToken;
        SharePointToken = sharePointToken;
        GraphTokenDescription = graphToken.Description;
        SharePointTokenDescription = sharePointToken.Description;
        Pipeline = new ServiceHttpPipeline(endpoints, graphToken, sharePointToken, httpOptions, transport);
        Exchange = new ExchangePhotoClient(Pipeline, endpoints);
        SharePoint = new SharePointRestClient(Pipeline, endpoints);
        Library = new UserPhotoLibrary(SharePoint, endpoints.MySiteHost, photoFolder);
        Sources = new Sources.PhotoFileOrUrlReader(Pipeline);
        ConnectedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// A connection for a sign-in method: pre-acquired tokens as given, else one Azure.Identity
    /// credential shared by both services (a delegated sign-in happens once) with a token source per
    /// service scope. Nothing is requested until <see cref="SignInAsync"/>.
    /// </summary>
    public static ProfileSyncConnection Create(ServiceEndpoints endpoints, SignInRequest request, string? photoFolder = null, TimeProvider? clock = null, HttpPipelineOptions? httpOptions = null)
    {
        if (request.Method == SignInMethod.AccessToken)
        {
            var graphToken = new PreAcquiredTokenSource(request.GraphAccessToken ?? throw new ArgumentException("-GraphAccessToken is needed."));
            var sharePointToken = new PreAcquiredTokenSource(request.SharePointAccessToken ?? throw new ArgumentException("-SharePointAccessToken is needed."));
            // Read locally, never validated or shown: a token for the wrong service, or expired, is refused before any request.
            var (graphAudience, sharePointAudience) = (TokenAudience.Graph(endpoints), TokenAudience.SharePoint(endpoints));
            var now = (clock ?? TimeProvider.System).GetUtcNow();
            var sharePointText = sharePointToken.GetTokenAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var notes = new[]
            {
                PreAcquiredTokenCheck.Check(graphToken.GetTokenAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult(), graphAudience, sharePointAudience, now),
                PreAcquiredTokenCheck.Check(sharePointText, sharePointAudience, graphAudience, now),
            }.OfType<string>().ToArray();
            var byToken = new ProfileSyncConnection(endpoints, graphToken, sharePointToken, request.Description, photoFolder, httpOptions) { SignInNotes = notes };
            byToken.SharePoint.SignIn = SignInKinds.OfAccessToken(sharePointText);
            return byToken;
        }
        var tenantId = string.IsNullOrWhiteSpace(request.TenantId) ? endpoints.DefaultTenantId : request.TenantId.Trim();
        var credential = CredentialFactory.Create(request, endpoints.Cloud, tenantId);
        var connection = new ProfileSyncConnection(endpoints,
            new CredentialTokenSource(credential, endpoints.GraphScope, request.Description, clock),
            new CredentialTokenSource(credential, endpoints.SharePointScope, request.Description, clock),
            request.Description, photoFolder, httpOptions)
        {
            TenantId = request.Method == SignInMethod.ManagedIdentity ? null : tenantId,
            ClientId = request.Method == SignInMethod.ManagedIdentity ? request.ManagedIdentityClientId : request.ClientId,
            SignInTimeout = request.Timeout,
        };
        connection.SharePoint.SignIn = SignInKinds.Of(request.Method);
        return connection;
    }

    /// <summary>
    /// Gets both services' tokens now, so a sign-in prompt or a wrong credential shows at connect time,
    /// not mid-run; within <see cref="SignInTimeout"/> when there is one (SignInFailed after it).
    /// </summary>
    public async Task SignInAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (SignInTimeout is { } timeout) deadline.CancelAfter(timeout);
        try
        {
            // WaitAsync: a credential that does not heed cancellation (a browser flow waiting for its redirect) cannot hold the wait either.
            await GraphToken.GetTokenAsync(deadline.Token).AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
            await SharePointToken.GetTokenAsync(deadline.Token).AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && SignInTimeout is { } limit)
        {
            throw BrowserSignIn.TimedOut(limit);
        }
    }

    /// <summary>How long <see cref="SignInAsync"/> may wait; null, as long as the credential takes.</summary>
    public TimeSpan? SignInTimeout { get; init; }

    /// <summary>What connecting noticed but did not refuse (a token that cannot be read locally), for verbose text. Never a token.</summary>
    public IReadOnlyList<string> SignInNotes { get; private init; } = Array.Empty<string>();

    /// <summary>
    /// Gives the SharePoint pacer its model of the three ceilings: explicit ceilings if the options
    /// hold them; else the band given (-TenantSize), or read from Graph /subscribedSkus (refused: the
    /// smallest band, with a warning to show; -Pacing Adaptive: none, null); delegated or app-only from the sign-in method, or for a
    /// pre-acquired token from its claims (idtyp, scp), unvalidated. Call after sign-in.
    /// </summary>
    public async Task<CeilingSetup?> ApplyCeilingsAsync(CancellationToken cancellationToken)
    {
        var options = Pipeline.Options;
        var kind = SharePoint.SignIn != SignInKind.Unknown ? SharePoint.SignIn
            : SignInKinds.OfAccessToken(await SharePointToken.GetTokenAsync(cancellationToken).ConfigureAwait(false));
        var delegated = options.Delegated ?? kind == SignInKind.Delegated;
        if (options.Ceilings is { } explicitCeilings)
        {
            Pipeline.SharePointPacer.SetCeilings(explicitCeilings);
            return Ceilings = new CeilingSetup(explicitCeilings, null, "explicit", delegated, null);
        }
        if (options.Pacing == SharePointPacing.Adaptive)
        {
            Pipeline.SharePointPacer.SetCeilings(null);
            return Ceilings = null;
        }
        TenantLicences? licences = null;
        var band = options.TenantSize ?? (licences = await TenantLicences.ReadAsync(Pipeline, Endpoints, cancellationToken).ConfigureAwait(false)).Band;
        var ceilings = SharePointCeilings.For(band, delegated, options.PeopleManagerShare);
        Pipeline.SharePointPacer.SetCeilings(ceilings);
        var source = options.TenantSize is not null ? "-TenantSize" : licences!.Count is long n ? $"{n:N0} licences (Graph /subscribedSkus)" : "assumed (licences unknown)";
        return Ceilings = new CeilingSetup(ceilings, licences?.Count, source, delegated, licences?.Warning);
    }

    /// <summary>What <see cref="ApplyCeilingsAsync"/> set; null before.</summary>
    public CeilingSetup? Ceilings { get; private set; }

    public ServiceEndpoints Endpoints { get; }
    public IAccessTokenSource GraphToken { get; }
    public IAccessTokenSource SharePointToken { get; }
    public string? TenantId { get; private init; }
    public string? ClientId { get; private init; }
    public string AuthenticationMethod { get; }
    public string GraphTokenDescription { get; }
    public string SharePointTokenDescription { get; }
    public DateTimeOffset ConnectedAt { get; }
    public ServiceHttpPipeline Pipeline { get; }
    public ExchangePhotoClient Exchange { get; }
    public SharePointRestClient SharePoint { get; }
    public UserPhotoLibrary Library { get; }

    /// <summary>Check and write services for one run (or one test): their own read-ahead and stop, nothing shared with other runs.</summary>
    public Runs.RunServices CreateRunServices() => new(this);
    public Sources.PhotoFileOrUrlReader Sources { get; }
    public RequestCounters Counters => Pipeline.Counters;

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        IsDisposed = true;
        Pipeline.Dispose();
    }

    public override string ToString() => $"ProfileSync connection to {Endpoints.TenantName} ({AuthenticationMethod})";
}

/// <summary>The ceilings a connection paces under, where the band came from, and the warning to show when it was assumed.</summary>
public sealed record CeilingSetup(SharePointCeilings Ceilings, long? Licences, string Source, bool Delegated, string? Warning)
{
    public override string ToString() => $"{Ceilings} ({Source}; {(Delegated ? "delegated: per-user ceiling on" : "app-only")})";
}
