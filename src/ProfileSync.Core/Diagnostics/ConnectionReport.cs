using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Diagnostics;

/// <summary>
/// -ReportPath: the SHAPES of the requests and answers a connection test saw, for a bug report. It is
/// the pipeline's recorder while the checks run. Kept: method, host as a placeholder ({graph},
/// {mysite}, {admin}), path and query with the test user, the tenant and any address or GUID replaced
/// by placeholders, status, content types, and for JSON bodies their structure with every value
/// replaced by its JSON type. Never kept: any header value but content types and Retry-After, any
/// token, any value of a JSON body.
/// </summary>
public sealed class ConnectionReport : IHttpExchangeRecorder
{
    public const string Format = "ProfileSync.ConnectionReport/1";
    private const long MaxBodyBytes = 4 * 1024 * 1024;
    private static readonly Regex Address = new(@"[^\s'""/|:=&?@(),]+@[^\s'""/|&?(),]+", RegexOptions.Compiled);
    private static readonly Regex Guid = new(@"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b", RegexOptions.Compiled);

    private readonly ServiceEndpoints _endpoints;
    private readonly List<(string Secret, string Placeholder)> _replacements;
    private readonly List<JsonObject> _exchanges = new();
    private readonly object _gate = new();

    public ConnectionReport(ServiceEndpoints endpoints, UserRef testUser)
    {
        _endpoints = endpoints;
        // Longest first, so the claims name goes before the UPN inside it.
        _replacements = new List<(string, string)>
            {
                (testUser.ClaimsAccountName, "i:0#.f|membership|{user}"),
                (testUser.UserPrincipalName, "{user}"),
                (endpoints.GraphRoot.Authority, "{graph}"),
                (endpoints.MySiteHost.Authority, "{mysite}"),
                (endpoints.SharePointAdmin.Authority, "{admin}"),
                (endpoints.TenantName, "{tenant}"),
            }
            .Where(r => r.Item1.Length > 0)
            .OrderByDescending(r => r.Item1.Length)
            .ToList();
    }

    public int Count { get { lock (_gate) return _exchanges.Count; } }

    public async ValueTask RecordAsync(ServiceKind service, HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var entry = new JsonObject
        {
            ["service"] = service.ToString(),
            ["method"] = request.Method.Method,
            ["host"] = request.RequestUri is null ? null : Host(request.RequestUri),
            ["path"] = request.RequestUri is null ? null : Scrub(Uri.UnescapeDataString(request.RequestUri.PathAndQuery)),
            ["status"] = (int)response.StatusCode,
        };
        if (request.Content is not null)
        {
            entry["requestContentType"] = request.Content.Headers.ContentType?.MediaType;
            entry["requestBody"] = await ShapeAsync(request.Content, cancellationToken).ConfigureAwait(false);
        }
        entry["responseContentType"] = response.Content.Headers.ContentType?.MediaType;
        if (response.Headers.RetryAfter is { } retryAfter) entry["retryAfter"] = retryAfter.ToString();
        entry["responseBody"] = await ShapeAsync(response.Content, cancellationToken).ConfigureAwait(false);
        lock (_gate) _exchanges.Add(entry);
    }

    /// <summary>The report as JSON: what ran, the checks' verdicts (details scrubbed like paths), and the exchanges.</summary>
    public string ToJson(IReadOnlyList<ProfileSyncCheck> checks, string moduleVersion)
    {
        JsonArray exchanges;
        lock (_gate) exchanges = new JsonArray(_exchanges.Select(e => (JsonNode)e.DeepClone()).ToArray());
        var report = new JsonObject
        {
            ["format"] = Format,
            ["module"] = moduleVersion,
            ["createdAt"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["cloud"] = _endpoints.Cloud.Environment.ToString(),
            ["checks"] = new JsonArray(checks.Select(c => (JsonNode)new JsonObject
            {
                ["check"] = c.Check,
                ["service"] = c.Service,
                ["status"] = c.Status.ToString(),
                ["durationMs"] = (long)c.Duration.TotalMilliseconds,
                ["errorId"] = c.ErrorId,
                ["httpStatus"] = c.HttpStatus,
                ["serviceErrorCode"] = c.Failure?.ServiceErrorCode,
                ["detail"] = Scrub(c.Detail),
                ["remedy"] = c.Remedy is null ? null : Scrub(c.Remedy),
            }).ToArray()),
            ["exchanges"] = exchanges,
        };
        return report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Text with the test user, the tenant's hosts and name, any other address and any GUID replaced by placeholders.</summary>
    public string Scrub(string text)
    {
        foreach (var (secret, placeholder) in _replacements)
            text = text.Replace(secret, placeholder, StringComparison.OrdinalIgnoreCase);
        text = Address.Replace(text, "{address}");
        return Guid.Replace(text, "{guid}");
    }

    private string Host(Uri uri) =>
        UrlText.SameAuthority(uri, _endpoints.GraphRoot) ? "{graph}"
        : UrlText.SameAuthority(uri, _endpoints.MySiteHost) ? "{mysite}"
        : UrlText.SameAuthority(uri, _endpoints.SharePointAdmin) ? "{admin}"
        : "{other}";

    /// <summary>A JSON body's structure with values replaced by their types; for other bodies only their length.</summary>
    private static async Task<JsonNode?> ShapeAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var type = content.Headers.ContentType?.MediaType;
        var length = content.Headers.ContentLength;
        if (type is null || !type.Contains("json", StringComparison.OrdinalIgnoreCase) || length > MaxBodyBytes)
            return length is long n ? JsonValue.Create($"({n} bytes)") : null;
        // Buffered, so the caller still reads the whole answer afterwards (ReadAsString uses the buffer, not a stream).
        await content.LoadIntoBufferAsync().ConfigureAwait(false);
        var text = await content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (text.Length == 0) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return Shape(doc.RootElement);
        }
        catch (JsonException)
        {
            return JsonValue.Create($"(not JSON, {Encoding.UTF8.GetByteCount(text)} bytes)");
        }
    }

    private static JsonNode Shape(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new JsonObject(element.EnumerateObject().Select(p => KeyValuePair.Create(KeyShape(p.Name), (JsonNode?)Shape(p.Value)))
            .DistinctBy(p => p.Key)),
        // Arrays of one shape are the rule: the first item's shape stands for all, with the count.
        JsonValueKind.Array => element.GetArrayLength() == 0 ? new JsonArray()
            : new JsonArray(Shape(element[0]), JsonValue.Create($"({element.GetArrayLength()} items)")),
        JsonValueKind.String => JsonValue.Create("string"),
        JsonValueKind.Number => JsonValue.Create("number"),
        JsonValueKind.True or JsonValueKind.False => JsonValue.Create("boolean"),
        _ => JsonValue.Create("null"),
    };

    /// <summary>Keys are schema names, but a key could be data (a dictionary keyed by address or id): those are replaced too.</summary>
    private static string KeyShape(string key) => Guid.Replace(Address.Replace(key, "{address}"), "{guid}");
}
