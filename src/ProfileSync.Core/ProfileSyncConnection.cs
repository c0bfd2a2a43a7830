using ProfileSync.Core.Exchange;
using ProfileSync.Core.Http;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core;

/// <summary>
/// One signed-in tenant: endpoints, the token source of each service, the shared HTTP pipeline and
/// the service adapters built on it. Sign-in methods differ only in the token sources they pass.
/// </summary>
public sealed class ProfileSyncConnection : IDisposable
{
    public ProfileSyncConnection(ServiceEndpoints endpoints, IAccessTokenSource graphToken, IAccessTokenSource sharePointToken,
        string authenticationMethod, string? photoFolder = null, HttpPipelineOptions? httpOptions = null, HttpMessageHandler? transport = null)
    {
        Endpoints = endpoints;
        AuthenticationMethod = authenticationMethod;
        GraphTokenDescription = graphToken.Description;
        SharePointTokenDescription = sharePointToken.Description;
        Pipeline = new ServiceHttpPipeline(endpoints, graphToken, sharePointToken, httpOptions, transport);
        Exchange = new ExchangePhotoSource(Pipeline, endpoints);
        PhotoMetadata = new PhotoMetadataBatcher(new GraphPhotoBatch(Pipeline, endpoints));
        SharePoint = new SharePointRestClient(Pipeline, endpoints);
        Library = new UserPhotoLibrary(SharePoint, endpoints.MySiteHost, photoFolder);
        Photos = new PhotoSyncService(Exchange, PhotoMetadata, SharePoint, Library);
        ConnectedAt = DateTimeOffset.UtcNow;
    }

    public ServiceEndpoints Endpoints { get; }
    public string AuthenticationMethod { get; }
    public string GraphTokenDescription { get; }
    public string SharePointTokenDescription { get; }
    public DateTimeOffset ConnectedAt { get; }
    public ServiceHttpPipeline Pipeline { get; }
    public ExchangePhotoSource Exchange { get; }
    public PhotoMetadataBatcher PhotoMetadata { get; }
    public SharePointRestClient SharePoint { get; }
    public UserPhotoLibrary Library { get; }
    public PhotoSyncService Photos { get; }
    public RequestCounters Counters => Pipeline.Counters;

    public void Dispose() => Pipeline.Dispose();

    public override string ToString() => $"ProfileSync connection to {Endpoints.TenantName} ({AuthenticationMethod})";
}
