using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Exchange;

/// <summary>What Exchange Online (through Graph) holds for one user.</summary>
public enum ExchangePhotoStatus { Found, NoPhoto, UserNotFound }

/// <summary>Photo metadata: the identity that tells whether the photo changed, and its size.</summary>
public sealed record ExchangePhotoInfo(
    ExchangePhotoStatus Status,
    string? ETag = null,
    string? ContentType = null,
    int? Width = null,
    int? Height = null,
    string? Reason = null)
{
    public static ExchangePhotoInfo NotFound(string reason) => new(ExchangePhotoStatus.UserNotFound, Reason: reason);
    public static ExchangePhotoInfo None(string reason) => new(ExchangePhotoStatus.NoPhoto, Reason: reason);
}

/// <summary>
/// Downloads Exchange photos through the Microsoft Graph SDK, and owns the reading of Graph's photo
/// answers for both this and the batch path: the several "no photo" shapes, the unknown user, failures.
/// </summary>
public sealed class ExchangePhotoSource
{
    /// <summary>Error codes Graph uses for "this user has no photo" (facts doc, section 4). None is a failure.</summary>
    internal static readonly HashSet<string> NoPhotoCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "ImageNotFound", "ErrorItemNotFound", "ErrorEntityNotFound", "ConsumerPhotoIsNotSupported",
    };

    private readonly GraphServiceClient _graph;

    public ExchangePhotoSource(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints)
    {
        // The pipeline adds the bearer token by host, so the SDK itself is given no credential.
        _graph = new GraphServiceClient(pipeline.Client, new AnonymousAuthenticationProvider(), endpoints.GraphBaseUrl);
    }

    /// <summary>
    /// The largest photo Exchange holds, or one of its sizes ("48x48", "64x64" ... "648x648"; Graph's
    /// photos/{size}). Null when there is no such photo (it went away since the metadata was read).
    /// </summary>
    public async Task<byte[]?> GetPhotoBytesAsync(UserRef user, CancellationToken cancellationToken, string? size = null)
    {
        try
        {
            var target = _graph.Users[user.UserPrincipalName];
            await using var stream = size is null
                ? await target.Photo.Content.GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false)
                : await target.Photos[size].Content.GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (stream is null) return null;
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (ApiException error)
        {
            var info = Classify(user, error, "downloading the photo");
            return info.Status == ExchangePhotoStatus.Found ? throw Unexpected(user, error, "downloading the photo") : null;
        }
    }

    /// <summary>
    /// Replaces the user's Exchange photo (Graph PUT .../photo/$value, Content-Type image/jpeg, needs
    /// ProfilePhoto.ReadWrite.All). Exchange keeps it and makes its smaller sizes; the etag changes.
    /// </summary>
    public async Task SetPhotoAsync(UserRef user, byte[] jpeg, CancellationToken cancellationToken)
    {
        try
        {
            using var body = new MemoryStream(jpeg, writable: false);
            // The SDK would send application/octet-stream; Graph documents image/jpeg. A header set here is kept.
            await _graph.Users[user.UserPrincipalName].Photo.Content.PutAsync(body, c => c.Headers.Add("Content-Type", "image/jpeg"), cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException error)
        {
            throw Unexpected(user, error.ResponseStatusCode, Code(error), (error as ODataError)?.Error?.Message, "setting the photo", error, ServiceFailure.Need.GraphPhotoWrite);
        }
    }

    /// <summary>Removes the user's Exchange photo (Graph DELETE .../photo/$value). False when there was none.</summary>
    public async Task<bool> RemovePhotoAsync(UserRef user, CancellationToken cancellationToken)
    {
        try
        {
            await _graph.Users[user.UserPrincipalName].Photo.Content.DeleteAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ApiException error) when (NoPhotoCodes.Contains(Code(error)))
        {
            return false;
        }
        catch (ApiException error)
        {
            var info = Classify(user, error, "removing the photo");
            if (info.Status == ExchangePhotoStatus.UserNotFound) throw new ProfileSyncException(ErrorIds.UserNotFound, FailureKind.NotFound, info.Reason ?? $"Graph knows no user '{user}'.");
            throw Unexpected(user, error.ResponseStatusCode, Code(error), (error as ODataError)?.Error?.Message, "removing the photo", error, ServiceFailure.Need.GraphPhotoWrite);
        }
    }

    private static ExchangePhotoInfo Classify(UserRef user, ApiException error, string doing) =>
        Classify(user, error.ResponseStatusCode, Code(error), (error as ODataError)?.Error?.Message, doing, error);

    private static ProfileSyncException Unexpected(UserRef user, ApiException error, string doing) =>
        Unexpected(user, error.ResponseStatusCode, Code(error), (error as ODataError)?.Error?.Message, doing, error);

    /// <summary>Reads a Graph failure for one user: a "no photo" answer, an unknown user, or a failure (thrown).</summary>
    internal static ExchangePhotoInfo Classify(UserRef user, int status, string code, string? message, string doing, Exception? inner = null)
    {
        if (NoPhotoCodes.Contains(code))
            return ExchangePhotoInfo.None($"Exchange has no photo for this user ({code}).");
        if (status == 404 && (code == "Request_ResourceNotFound" || code.Length == 0))
            return ExchangePhotoInfo.NotFound($"Graph knows no user '{user}' (404 {code}). Check the UPN.");
        if (status == 404 && code.Contains("MailboxNotEnabled", StringComparison.OrdinalIgnoreCase))
            return ExchangePhotoInfo.None($"The user has no Exchange Online mailbox ({code}).");
        throw Unexpected(user, status, code, message, doing, inner);
    }

    internal static ProfileSyncException Unexpected(UserRef user, int status, string code, string? message, string doing, Exception? inner = null,
        ServiceFailure.Need need = ServiceFailure.Need.GraphPhotoRead) =>
        ServiceFailure.From(ServiceKind.Graph, status, code, message, $"{doing} for '{user}'", need, inner);

    /// <summary>Photo metadata from a 200 answer's JSON properties (SDK or batch): a placeholder reads as no photo.</summary>
    internal static ExchangePhotoInfo FromMetadata(string? contentType, string? etag, int? width, int? height)
    {
        // A mailbox without a photo can answer 200 with a 1x1 GIF and an empty etag.
        if (string.IsNullOrEmpty(etag) || (width is <= 1 && height is <= 1))
            return ExchangePhotoInfo.None($"Graph reports a placeholder ({contentType ?? "no type"}, {width}x{height}, empty etag).");
        return new ExchangePhotoInfo(ExchangePhotoStatus.Found, etag, contentType, width, height);
    }

    private static string Code(ApiException error) => (error as ODataError)?.Error?.Code ?? "";
}
