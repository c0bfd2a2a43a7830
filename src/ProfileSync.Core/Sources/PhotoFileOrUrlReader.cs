using System.Net;
using ProfileSync.Core.Http;

namespace ProfileSync.Core.Sources;

/// <summary>Where a new photo comes from: a file, or a URL.</summary>
public sealed record PhotoFileOrUrl(string? Path, Uri? Url)
{
    public override string ToString() => Path ?? Url?.ToString() ?? "";
}

/// <summary>The rules a photo URL is fetched by.</summary>
public sealed record UrlFetchPolicy
{
    /// <summary>http:// as well as https:// (only when the admin asks for it).</summary>
    public bool AllowHttp { get; init; }
    /// <summary>Bytes read at most, from a file or a URL.</summary>
    public long MaxBytes { get; init; } = 20 * 1024 * 1024;
    /// <summary>The whole fetch, redirects included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxRedirects { get; init; } = 5;
}

/// <summary>
/// Reads the bytes of a new photo. A URL is fetched through the one HTTP pipeline but without any of
/// ProfileSync's tokens, whatever its host; https only unless http is allowed; at most MaxBytes, within
/// Timeout; a redirect (to any host) is followed only within the same rules, at most MaxRedirects times.
/// </summary>
public sealed class PhotoFileOrUrlReader(ServiceHttpPipeline pipeline)
{
    public async Task<byte[]> ReadAsync(PhotoFileOrUrl source, UrlFetchPolicy policy, CancellationToken cancellationToken) =>
        source.Path is not null ? await ReadFileAsync(source.Path, policy.MaxBytes, cancellationToken).ConfigureAwait(false)
        : await FetchAsync(source.Url!, policy, cancellationToken).ConfigureAwait(false);

    public static async Task<byte[]> ReadFileAsync(string path, long maxBytes, CancellationToken cancellationToken)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new ProfileSyncException(ErrorIds.PhotoSourceNotFound, FailureKind.NotFound, $"The photo file '{path}' does not exist (a relative path is read from the current location).");
        if (file.Length > maxBytes) throw TooLarge(path, file.Length, maxBytes);
        return await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> FetchAsync(Uri url, UrlFetchPolicy policy, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(policy.Timeout);
        var current = url;
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                CheckScheme(current, url, policy);
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                request.Options.Set(ServiceHttpPipeline.WithoutToken, true);
                using var response = await pipeline.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    if (redirects >= policy.MaxRedirects)
                        throw Refused(url, $"it redirected more than {policy.MaxRedirects} times");
                    current = location.IsAbsoluteUri ? location : new Uri(current, location);
                    continue;
                }
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                    throw new ProfileSyncException(ErrorIds.PhotoSourceNotFound, FailureKind.NotFound, $"The photo URL '{Show(url)}' answered {status}: there is no photo there.");
                if (!response.IsSuccessStatusCode)
                    throw Failed(url, $"it answered {status} {response.ReasonPhrase}");
                return await CappedContent.ReadAsync(response.Content, policy.MaxBytes, length => TooLarge(Show(url), length, policy.MaxBytes), deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(url, $"it gave no complete answer within {policy.Timeout.TotalSeconds:0} s");
        }
        catch (ProfileSyncException ex) when (ex.ErrorId == ErrorIds.ServiceUnreachable)
        {
            throw Failed(url, "it could not be reached: " + ex.Message);
        }
    }

    private static void CheckScheme(Uri current, Uri asked, UrlFetchPolicy policy)
    {
        var allowed = current.Scheme == Uri.UriSchemeHttps || (policy.AllowHttp && current.Scheme == Uri.UriSchemeHttp);
        if (allowed) return;
        var why = current == asked ? $"its scheme is {current.Scheme}" : $"it redirected to {current.Scheme}://{current.Host}";
        throw Refused(asked, why + (current.Scheme == Uri.UriSchemeHttp ? "; http is read only with -AllowHttp" : "; only https (and http with -AllowHttp) is read"));
    }

    /// <summary>The URL without its query string: a signed URL's query is a secret.</summary>
    private static string Show(Uri url) => url.GetLeftPart(UriPartial.Path);

    // Each source failure has its own ErrorId, and so the one recommended action of ErrorCatalog (and of the README's table).
    private static ProfileSyncException Refused(Uri url, string why) =>
        new(ErrorIds.PhotoSourceRefused, FailureKind.InvalidInput, $"The photo URL '{Show(url)}' was not read: {why}.");

    private static ProfileSyncException Failed(Uri url, string why) =>
        new(ErrorIds.PhotoSourceFailed, FailureKind.ConnectionError, $"The photo URL '{Show(url)}' could not be read: {why}.");

    private static ProfileSyncException TooLarge(string what, long length, long max) =>
        new(ErrorIds.PhotoSourceTooLarge, FailureKind.InvalidInput,
            $"The photo '{what}' is {length / 1024.0 / 1024.0:0.0} MB, over the {max / 1024 / 1024} MB ProfileSync reads (-MaxSourceMB).");
}
