using System.Runtime.CompilerServices;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Exchange;

/// <summary>
/// Lists the tenant's users worth a photo sync, page by page, as a stream (never gathered first), in
/// one list query: enabled member accounts with a mail address.
/// <list type="bullet">
/// <item><c>accountEnabled eq true</c>: shared, room and equipment mailboxes are disabled accounts
/// (unless someone enabled one to sign in with it), as are leavers; -IncludeDisabled drops this clause.</item>
/// <item><c>userType eq 'Member'</c>: guests have a mail address (their own) but no mailbox here.</item>
/// <item><c>mail ne null</c>: a user with an Exchange Online mailbox has its primary SMTP address in
/// <c>mail</c>; users without one cannot have an Exchange photo.</item>
/// </list>
/// Graph has no recipient type on users, so this is as close as one query gets: an enabled shared
/// mailbox, or a mail user without a mailbox, is still listed (and checked like anyone). <c>eq</c> on
/// accountEnabled and userType works by default, but <c>ne</c> is an advanced query, so the request is
/// sent with <c>ConsistencyLevel: eventual</c> and <c>$count=true</c> (without them Graph answers 400
/// Request_UnsupportedQuery), and its answer is eventually consistent: a user changed minutes ago may
/// be missing. Source: https://learn.microsoft.com/graph/aad-advanced-queries (the user properties
/// table: accountEnabled, userType and mail take eq by default, ne only in advanced queries).
/// 999 users a page (Graph's maximum).
/// </summary>
public sealed class MailboxUserDirectory
{
    /// <summary>-All's filter: enabled members with a mail address.</summary>
    public const string MembersFilter = "accountEnabled eq true and userType eq 'Member' and mail ne null";
    /// <summary>-All -IncludeDisabled's filter: members with a mail address, enabled or not.</summary>
    public const string IncludeDisabledFilter = "userType eq 'Member' and mail ne null";
    private readonly GraphServiceClient _graph;

    public MailboxUserDirectory(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints, bool includeDisabled = false)
    {
        _graph = new GraphServiceClient(pipeline.Client, new AnonymousAuthenticationProvider(), endpoints.GraphBaseUrl);
        Filter = includeDisabled ? IncludeDisabledFilter : MembersFilter;
    }

    /// <summary>The $filter this listing sends.</summary>
    public string Filter { get; }

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
        return ServiceFailure.From(ServiceKind.Graph, status, code.Length == 0 ? null : code, message, "listing the tenant's users", ServiceFailure.Need.GraphUserList, ex);
    }
}
