using System.Runtime.CompilerServices;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Exchange;

/// <summary>
/// Lists the tenant's users that have a mailbox, page by page, as a stream (never gathered first).
/// Filter: <c>mail ne null</c> — a user with an Exchange Online mailbox has a primary SMTP address in
/// <c>mail</c>; users without one cannot have an Exchange photo. This is an advanced query, so it is
/// sent with <c>ConsistencyLevel: eventual</c> and <c>$count=true</c>; 999 users a page (Graph's maximum).
/// </summary>
public sealed class MailboxUserDirectory
{
    public const string Filter = "mail ne null";
    private readonly GraphServiceClient _graph;

    public MailboxUserDirectory(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints)
    {
        _graph = new GraphServiceClient(pipeline.Client, new AnonymousAuthenticationProvider(), endpoints.GraphBaseUrl);
    }

    /// <summary>Set once the first page arrives: Graph's count of matching users.</summary>
    public long? TotalCount { get; private set; }

    public async IAsyncEnumerable<UserRef> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        UserCollectionResponse? page;
        try
        {
            page = await _graph.Users.GetAsync(r =>
            {
                r.QueryParameters.Select = new[] { "id", "userPrincipalName", "mail" };
                r.QueryParameters.Filter = Filter;
                r.QueryParameters.Count = true;
                r.QueryParameters.Top = 999;
                r.Headers.Add("ConsistencyLevel", "eventual");
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException ex)
        {
            throw Failure(ex);
        }
        TotalCount = page?.OdataCount;
        while (page is not null)
        {
            foreach (var user in page.Value ?? new List<User>())
                if (user.UserPrincipalName is string upn && UserRef.TryParse(upn, out var parsed, out _))
                    yield return parsed!;
            if (page.OdataNextLink is not string next) yield break;
            try
            {
                page = await _graph.Users.WithUrl(next).GetAsync(r => r.Headers.Add("ConsistencyLevel", "eventual"), cancellationToken).ConfigureAwait(false);
            }
            catch (ApiException ex)
            {
                throw Failure(ex);
            }
        }
    }

    private static ProfileSyncException Failure(ApiException ex)
    {
        var (status, code, message) = GraphWireFormat.ReadError(ex);
        return ServiceFailure.From(ServiceKind.Graph, status, code.Length == 0 ? null : code, message, "listing the tenant's mailbox users", ServiceFailure.Need.GraphUserList, ex);
    }
}
