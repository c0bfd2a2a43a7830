using System.Text.Json;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace ProfileSync.Core.Exchange;

/// <summary>What a Graph error answer means for one user's photo.</summary>
public enum GraphErrorMeaning
{
    /// <summary>None of the answers below: a failure, mapped by <see cref="Http.ServiceFailure"/>.</summary>
    Failure,
    /// <summary>The user exists but has no photo: not a failure.</summary>
    NoPhoto,
    /// <summary>The user exists but has no Exchange Online mailbox (so no Exchange photo).</summary>
    NoMailbox,
    /// <summary>Graph knows no such user.</summary>
    UnknownUser,
}

/// <summary>
/// The one reader of Graph's error answers: the <c>{"error":{"code","message",...}}</c> body of a single
/// response, of a $batch item, or as the Graph SDK hands it over (<see cref="ODataError"/>), and the one
/// place that says which codes mean "no photo" and which mean "no such user".
/// </summary>
public static class GraphWireFormat
{
    /// <summary>
    /// Codes Graph answers (404) for a user who has no photo: <c>ImageNotFound</c> from the photo service,
    /// <c>ErrorItemNotFound</c> and <c>ErrorEntityNotFound</c> from Exchange, <c>ConsumerPhotoIsNotSupported</c>.
    /// All mean "no source photo", never a failure.
    /// </summary>
    public static readonly IReadOnlySet<string> NoPhotoCodes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "ImageNotFound", "ErrorItemNotFound", "ErrorEntityNotFound", "ConsumerPhotoIsNotSupported",
    };

    /// <summary>
    /// Codes Graph answers with 404 for a user that does not exist: <c>Request_ResourceNotFound</c> (the
    /// directory's answer, and what the tenant emulator gives). <c>ResourceNotFound</c> and Exchange's
    /// <c>ErrorInvalidUser</c> ("The requested user is invalid") are reported for missing users by other
    /// Graph workloads; Microsoft's photo docs do not list them, so they are read the same way to be safe.
    /// Only with status 404: the same codes with another status are failures.
    /// </summary>
    public static readonly IReadOnlySet<string> UnknownUserCodes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Request_ResourceNotFound", "ResourceNotFound", "ErrorInvalidUser",
    };

    /// <summary>The code Exchange answers (404) for a user without a usable mailbox starts with this (e.g. MailboxNotEnabledForRESTAPI).</summary>
    public const string NoMailboxCodePrefix = "MailboxNotEnabled";

    /// <summary>What a failed answer means. A 404 without any error code is read as "no such user", as Graph's routing gives it.</summary>
    public static GraphErrorMeaning Classify(int status, string? code)
    {
        code ??= "";
        if (NoPhotoCodes.Contains(code)) return GraphErrorMeaning.NoPhoto;
        if (status != 404) return GraphErrorMeaning.Failure;
        if (code.Length == 0 || UnknownUserCodes.Contains(code)) return GraphErrorMeaning.UnknownUser;
        if (code.StartsWith(NoMailboxCodePrefix, StringComparison.OrdinalIgnoreCase)) return GraphErrorMeaning.NoMailbox;
        return GraphErrorMeaning.Failure;
    }

    /// <summary>True for the answers that mean "this user has no photo".</summary>
    public static bool MeansNoPhoto(string? code) => code is not null && NoPhotoCodes.Contains(code);

    /// <summary>True for the answers that mean "Graph knows no such user".</summary>
    public static bool MeansUnknownUser(int status, string? code) => Classify(status, code) == GraphErrorMeaning.UnknownUser;

    /// <summary>The code and message of a Graph error body; (null, null) when the text is not one.</summary>
    public static (string? Code, string? Message) ReadError(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(body);
            return ReadError(doc.RootElement);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>The code and message of a parsed Graph error body (a $batch item's "body"); (null, null) when it is not one.</summary>
    public static (string? Code, string? Message) ReadError(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            return (null, null);
        return (Text(error, "code"), Text(error, "message"));
    }

    /// <summary>Status, code and message of a failure the Graph SDK threw (its ODataError carries the parsed body).</summary>
    public static (int Status, string Code, string? Message) ReadError(ApiException error)
    {
        var main = (error as ODataError)?.Error;
        return (error.ResponseStatusCode, main?.Code ?? "", main?.Message);
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
