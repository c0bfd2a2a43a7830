using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Reporting;

/// <summary>The two small photos a report shows for a user, and why one is missing.</summary>
public sealed record ReportPhotoPair(byte[]? Exchange, byte[]? SharePoint, string? Note);

/// <summary>
/// Fetches the small photos a report shows: Graph's 48x48 Exchange photo and the SharePoint S
/// thumbnail PictureURL names (or its M file when it does not follow the naming scheme). At most one
/// request per side per user, through the connection's pipeline (tokens, throttling, retries). A
/// PictureURL outside the tenant's My Site host is never fetched. Both are shrunk to 48-pixel JPEGs
/// so a report of 20,000 users stays small. A failure costs the photo, never the report.
/// </summary>
public sealed class ReportPhotoFetcher(ProfileSyncConnection connection)
{
    public const int Side = 48;
    public const int Quality = 70;
    private const string GraphSize = "48x48";
    private static readonly ImageLimits Limits = new() { MaxBytes = 4 * 1024 * 1024 };

    public async Task<ReportPhotoPair> FetchAsync(ReportRow row, CancellationToken cancellationToken)
    {
        // A Set/Remove row has no state: it shows both photos as they are after the change.
        var (fetchExchange, fetchSharePoint) = row.State is { } state
            ? (PhotoStateRules.For(state).FetchExchangePhoto, PhotoStateRules.For(state).FetchSharePointPhoto) : (true, true);
        if (!(fetchExchange || fetchSharePoint) || !UserRef.TryParse(row.UserPrincipalName, out var user, out _)) return new(null, null, null);
        var notes = new List<string>();
        // Photos held only in Entra ID can be any size and lack the 48x48 one: then the photo itself, once.
        var exchange = !fetchExchange ? null : await Fetch("Exchange", notes, async () =>
            await connection.Exchange.GetPhotoBytesAsync(user!, cancellationToken, GraphSize).ConfigureAwait(false)
            ?? await connection.Exchange.GetPhotoBytesAsync(user!, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

        byte[]? sharePoint = null;
        if (fetchSharePoint && row.SharePointPictureUrl is { Length: > 0 } url)
        {
            var location = connection.Library.Locate(url);
            if (location is null) notes.Add("the SharePoint picture is outside the tenant and was not fetched");
            else
            {
                var path = location.FollowsNamingScheme ? location.SmallPath : location.MediumPath;
                sharePoint = await Fetch("SharePoint", notes, () => connection.SharePoint.DownloadFileAsync(path, Limits.MaxBytes, cancellationToken)).ConfigureAwait(false);
            }
        }
        return new(exchange, sharePoint, notes.Count == 0 ? null : string.Join("; ", notes));

        async Task<byte[]?> Fetch(string service, List<string> into, Func<Task<byte[]?>> fetch)
        {
            try
            {
                var bytes = await fetch().ConfigureAwait(false);
                return bytes is null ? null : ThumbnailMaker.Preview(bytes, Side, Quality, Limits, service + " photo");
            }
            catch (ProfileSyncException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The row's own ErrorId is shown once, with its reason.
                into.Add($"the {service} photo could not be shown" + (ex.ErrorId == row.ErrorId ? "" : $" ({ex.ErrorId})"));
                return null;
            }
        }
    }
}
