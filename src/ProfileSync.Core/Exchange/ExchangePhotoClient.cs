using Microsoft.Graph;
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

/// <summary>What Graph's directory says of one user: its object id, whether it has a mail address, and its UPN.</summary>
public sealed record GraphUserInfo(string? Id, bool HasMail, string? UserPrincipalName = null);

/// <summary>
/// Downloads, sets and removes Exchange photos through the Microsoft Graph SDK, and turns Graph's photo
/// answers into what they mean for one user, for both this and the batch path. Which error codes mean
/// what is <see cref="GraphWireFormat"/>'s to say.
/// </summary>
public sealed class ExchangePhotoClient
{
    private readonly GraphServiceClient _graph;

    public ExchangePhotoClient(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints)
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
            var (status, code, message) = GraphWireFormat.ReadError(error);
            // No photo, no mailbox or no user any more: nothing to download. Anything else is thrown.
            _ = Classify(user, status, code, message, "downloading the photo", error);
            return null;
        }
    }

    /// <summary>
    /// One user's directory entry (Graph GET /users/{upn}, User.Read.All): whether Graph knows the user
    /// and whether it has a mail address (a mailbox). Null for a user Graph does not know.
    /// </summary>
    public async Task<GraphUserInfo?> GetUserAsync(UserRef user, CancellationToken cancellationToken)
    {
        try
        {
            var found = await _graph.Users[user.UserPrincipalName].GetAsync(r => r.QueryParameters.Select = new[] { "id", "userPrincipalName", "mail" }, cancellationToken).ConfigureAwait(false);
            return found is null ? null : new GraphUserInfo(found.Id, !string.IsNullOrEmpty(found.Mail), found.UserPrincipalName);
        }
        catch (ApiException error)
        {
            var (status, code, message) = GraphWireFormat.ReadError(error);
            if (GraphWireFormat.MeansUnknownUser(status, code)) return null;
            throw ServiceFailure.From(ServiceKind.Graph, status, code, message, $"reading the user '{user}'", ServiceFailure.Need.GraphUserList, error);
        }
    }

    /// <summary>One user's photo metadata (Graph GET /users/{upn}/photo), read alone rather than in a batch.</summary>
    public async Task<ExchangePhotoInfo> GetPhotoInfoAsync(UserRef user, CancellationToken cancellationToken)
    {
        try
        {
            var photo = await _graph.Users[user.UserPrincipalName].Photo.GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (photo is null) return ExchangePhotoInfo.None("Graph answered without photo metadata.");
            string? Additional(string name) => photo.AdditionalData.TryGetValue(name, out var value) ? value?.ToString() : null;
            return FromMetadata(Additional("@odata.mediaContentType"), Additional("@odata.mediaEtag"), photo.Width, photo.Height);
        }
        catch (ApiException error)
        {
            var (status, code, message) = GraphWireFormat.ReadError(error);
            return Classify(user, status, code, message, "reading photo metadata", error);
        }
    }

    /// <summary>
    /// Replaces the user's Exchange photo (Graph PUT .../photo/$value, Content-Type image/jpeg, needs
    /// ProfilePhoto.ReadWrite.All). Exchange keeps it and makes its smaller sizes; the etag changes.
    /// An unknown user throws <see cref="ErrorIds.UserNotFound"/>.
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
            var (status, code, message) = GraphWireFormat.ReadError(error);
            if (GraphWireFormat.MeansUnknownUser(status, code)) throw UnknownUser(user, status, code, "setting the photo", error);
            throw Unexpected(user, status, code, message, "setting the photo", error, ServiceFailure.Need.GraphPhotoWrite);
        }
    }

    /// <summary>
    /// Removes the user's Exchange photo (Graph DELETE .../photo/$value). False when there was none;
    /// an unknown user throws <see cref="ErrorIds.UserNotFound"/>.
    /// </summary>
    public async Task<bool> RemovePhotoAsync(UserRef user, CancellationToken cancellationToken)
    {
        try
        {
            await _graph.Users[user.UserPrincipalName].Photo.Content.DeleteAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ApiException error)
        {
            var (status, code, message) = GraphWireFormat.ReadError(error);
            switch (GraphWireFormat.Classify(status, code))
            {
                case GraphErrorMeaning.NoPhoto:
                    return false;
                case GraphErrorMeaning.UnknownUser:
                    throw UnknownUser(user, status, code, "removing the photo", error);
                default:
                    throw Unexpected(user, status, code, message, "removing the photo", error, ServiceFailure.Need.GraphPhotoWrite);
            }
        }
    }

    /// <summary>Reads a Graph failure for one user: a "no photo" answer, an unknown user, or a failure (thrown).</summary>
    internal static ExchangePhotoInfo Classify(UserRef user, int status, string code, string? message, string doing, Exception? inner = null) =>
        GraphWireFormat.Classify(status, code) switch
        {
            GraphErrorMeaning.NoPhoto => ExchangePhotoInfo.None($"Exchange has no photo for this user ({code})."),
            GraphErrorMeaning.UnknownUser => ExchangePhotoInfo.NotFound(UnknownUserText(user, status, code)),
            GraphErrorMeaning.NoMailbox => ExchangePhotoInfo.None($"The user has no Exchange Online mailbox ({code})."),
            _ => throw Unexpected(user, status, code, message, doing, inner),
        };

    /// <summary>The failure for a user Graph does not know: ErrorId UserNotFound, with what to check.</summary>
    internal static ProfileSyncException UnknownUser(UserRef user, int status, string code, string doing, Exception? inner = null) =>
        new(ErrorIds.UserNotFound, FailureKind.NotFound, UnknownUserText(user, status, code, doing), inner)
        {
            StatusCode = status,
            ServiceErrorCode = string.IsNullOrEmpty(code) ? null : code,
            RecommendedAction = ErrorCatalog.For(ErrorIds.UserNotFound).RecommendedAction,
        };

    private static string UnknownUserText(UserRef user, int status, string code, string? doing = null) =>
        $"Graph knows no user '{user}' ({status}{(string.IsNullOrEmpty(code) ? "" : " " + code)}){(doing is null ? "" : " while " + doing)}. Check the UPN.";

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
}
