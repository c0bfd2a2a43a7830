using System.Runtime.CompilerServices;
using ProfileSync.Core.Http;

namespace ProfileSync.Core.SharePoint;

/// <summary>What one small People search said about the tenant's index.</summary>
public enum PeopleSearchOutcome
{
    /// <summary>Search answered with rows: <see cref="PeopleSearchProbe.TotalRows"/> people in the index.</summary>
    Answered,
    /// <summary>Search answered 200 with no rows: an empty index, or app-only people search failing silently (reported in some tenants).</summary>
    Empty,
    /// <summary>The sign-in may not search (401/403): per-user reads are the way.</summary>
    Refused,
    /// <summary>Search failed otherwise (server error, throttled after every retry, an answer that is no search result).</summary>
    Failed,
}

/// <summary>The probe's finding; <see cref="Failure"/> is set when refused or failed.</summary>
public sealed record PeopleSearchProbe(PeopleSearchOutcome Outcome, int TotalRows, Failure? Failure)
{
    public bool CanList => Outcome == PeopleSearchOutcome.Answered;

    public override string ToString() => Outcome switch
    {
        PeopleSearchOutcome.Answered => $"People search answered with {TotalRows:N0} total rows",
        PeopleSearchOutcome.Empty => "People search answered with no rows",
        _ => $"People search {(Outcome == PeopleSearchOutcome.Refused ? "refused" : "failed")}: {Failure?.Message}",
    };
}

/// <summary>
/// SharePoint People search as a bulk read of profiles (facts doc 5a): 500 rows a request instead of
/// one profile read per user. It reads the search INDEX, which lags hours behind profile writes and
/// leaves out users hidden from the address list, so what it lists says which users MAY need a look;
/// it is never proof that a profile is as listed. Requests go through the connection's pipeline
/// (token, retries, SharePoint pacing) like every other SharePoint call.
/// </summary>
public sealed class PeopleSearch
{
    /// <summary>The most rows SharePoint search gives in one page.</summary>
    public const int PageSize = 500;

    /// <summary>
    /// The documented ceiling of StartRow (sp-dev-docs "SharePoint Search REST API overview": "we limit
    /// the maximum supported value of StartRow to be 50,000"). Past it Microsoft documents paging by
    /// IndexDocId sorted on [docid] ("Pagination for large result sets"), which this class does not do
    /// yet: it stops there with a failure rather than ask for rows the service does not promise.
    /// </summary>
    public const int MaxStartRow = 50_000;

    private readonly SharePointRestClient _sharePoint;

    public PeopleSearch(SharePointRestClient sharePoint) => _sharePoint = sharePoint;

    public PeopleSearch(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints) : this(new SharePointRestClient(pipeline, endpoints))
    {
    }

    /// <summary>
    /// Every person in the index, 500 a request, until TotalRows (as the latest page gives it). Rows that
    /// name no claims account are skipped. A refusal throws <see cref="ProfileSyncException"/> (AccessDenied,
    /// not stopping a run) before the first row; a failure midway throws after the rows already listed.
    /// </summary>
    public async IAsyncEnumerable<IndexedProfile> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = 0;
        while (true)
        {
            var page = await _sharePoint.SearchPeopleAsync(start, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var profile in page.Profiles) yield return profile;
            // RowCount counts the rows of the page, skipped ones too; no rows means no progress, so stop.
            if (page.RowCount <= 0) yield break;
            start += page.RowCount;
            if (start >= page.TotalRows) yield break;
            if (start >= MaxStartRow)
                throw new ProfileSyncException(ErrorIds.SharePointRequestFailed, FailureKind.ServiceError,
                    $"People search lists {page.TotalRows:N0} people; paging by StartRow stops at {MaxStartRow:N0} (the service's documented limit), so the rest were not listed.")
                {
                    Service = "SharePoint", StopsRun = false,
                    RecommendedAction = "Read the users not listed one by one (per-user profile reads); paging by IndexDocId is not implemented.",
                };
        }
    }

    /// <summary>
    /// Asks for one row: whether People search answers for this sign-in, and how many people its index
    /// holds. Never throws a service failure (it is the finding); cancellation still throws.
    /// </summary>
    public async Task<PeopleSearchProbe> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var page = await _sharePoint.SearchPeopleAsync(0, 1, cancellationToken).ConfigureAwait(false);
            return page.TotalRows > 0 || page.RowCount > 0
                ? new PeopleSearchProbe(PeopleSearchOutcome.Answered, Math.Max(page.TotalRows, page.RowCount), null)
                : new PeopleSearchProbe(PeopleSearchOutcome.Empty, 0, null);
        }
        catch (ProfileSyncException ex)
        {
            var refused = ex.Kind is FailureKind.AccessDenied or FailureKind.AuthenticationFailed;
            return new PeopleSearchProbe(refused ? PeopleSearchOutcome.Refused : PeopleSearchOutcome.Failed, 0, ex.Failure);
        }
    }
}
