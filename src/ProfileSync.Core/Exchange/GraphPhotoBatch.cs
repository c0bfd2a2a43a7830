using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Exchange;

/// <summary>Photo metadata of one user from a batch: the info, or why it could not be read.</summary>
public sealed record ExchangeLookup(ExchangePhotoInfo? Info, ProfileSyncException? Failure);

/// <summary>
/// Photo metadata for up to 20 users per request through Graph JSON batching, read as raw JSON (the
/// .NET SDK's typed batch reader has returned empty streams for media answers: msgraph-sdk-dotnet
/// issue 2879). Graph hands at most 4 requests of a batch to Exchange at a time, so a batch of 20
/// costs about 5 service round trips but one request of the app's budget. Items answered 429/503/504
/// are sent again, in a later batch, after the longest Retry-After among them.
/// </summary>
public sealed class GraphPhotoBatch
{
    public const int MaxBatchSize = 20;

    private readonly HttpClient _http;
    private readonly Uri _batchUrl;
    private readonly HttpPipelineOptions _options;

    public GraphPhotoBatch(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints)
    {
        _http = pipeline.Client;
        _options = pipeline.Options;
        _batchUrl = new Uri(endpoints.GraphBaseUrl + "/$batch");
    }

    public async Task<IReadOnlyList<ExchangeLookup>> GetPhotoInfosAsync(IReadOnlyList<UserRef> users, CancellationToken cancellationToken)
    {
        if (users.Count > MaxBatchSize) throw new ArgumentException($"At most {MaxBatchSize} users a batch.", nameof(users));
        var results = new ExchangeLookup?[users.Count];
        var pending = Enumerable.Range(0, users.Count).ToList();
        for (var round = 0; pending.Count > 0; round++)
        {
            var answers = await SendAsync(users, pending, cancellationToken).ConfigureAwait(false);
            var retry = new List<int>();
            TimeSpan wait = TimeSpan.Zero;
            foreach (var index in pending)
            {
                var user = users[index];
                if (!answers.TryGetValue(index, out var answer))
                {
                    results[index] = new ExchangeLookup(null, ExchangePhotoClient.Unexpected(user, 0, "", "the batch answer has no item for this user", "reading photo metadata in a batch"));
                    continue;
                }
                if (answer.Status is 429 or 503 or 504 && round < _options.MaxRetries)
                {
                    retry.Add(index);
                    if (answer.RetryAfter > wait) wait = answer.RetryAfter;
                    continue;
                }
                results[index] = Read(user, answer);
            }
            pending = retry;
            if (pending.Count > 0)
            {
                if (wait == TimeSpan.Zero) wait = _options.InitialBackoff * Math.Pow(2, Math.Min(round, 8));
                await _options.Delay(wait > _options.MaxRetryDelay ? _options.MaxRetryDelay : wait, cancellationToken).ConfigureAwait(false);
            }
        }
        return results!;
    }

    private static ExchangeLookup Read(UserRef user, BatchAnswer answer)
    {
        try
        {
            if (answer.Status == 200)
                return new ExchangeLookup(ExchangePhotoClient.FromMetadata(answer.String("@odata.mediaContentType"), answer.String("@odata.mediaEtag"), answer.Int("width"), answer.Int("height")), null);
            return new ExchangeLookup(ExchangePhotoClient.Classify(user, answer.Status, answer.ErrorCode ?? "", answer.ErrorMessage, "reading photo metadata"), null);
        }
        catch (ProfileSyncException ex)
        {
            return new ExchangeLookup(null, ex);
        }
    }

    private async Task<Dictionary<int, BatchAnswer>> SendAsync(IReadOnlyList<UserRef> users, List<int> indexes, CancellationToken cancellationToken)
    {
        using var request = BatchOfGets(_batchUrl, indexes.Select(i => (i, "/users/" + Uri.EscapeDataString(users[i].UserPrincipalName) + "/photo")).ToList());
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var (code, message) = GraphWireFormat.ReadError(body);
            throw ExchangePhotoClient.Unexpected(users[indexes[0]], (int)response.StatusCode, code ?? "", message ?? (body.Length > 200 ? body[..200] : body),
                $"sending a batch of {indexes.Count} photo requests (starting with this user)");
        }
        return ParseAnswers(body);
    }

    /// <summary>Reads a $batch answer: {"responses":[{"id","status","headers":{},"body":{}}]}.</summary>
    /// <summary>
    /// A Graph JSON batch of GETs (POST /$batch, {"requests":[{"id","method","url"}]}), at most 20, each
    /// id the caller's index; it tells the pipeline how many items it carries (each is priced alone).
    /// </summary>
    internal static HttpRequestMessage BatchOfGets(Uri batchUrl, IReadOnlyList<(int Id, string RelativeUrl)> gets)
    {
        using var payload = new MemoryStream();
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteStartArray("requests");
            foreach (var (id, url) in gets)
            {
                json.WriteStartObject();
                json.WriteString("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("method", "GET");
                json.WriteString("url", url);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        var request = new HttpRequestMessage(HttpMethod.Post, batchUrl) { Content = new ByteArrayContent(payload.ToArray()) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Options.Set(ServiceHttpPipeline.BatchItems, gets.Count);
        return request;
    }

    internal static Dictionary<int, BatchAnswer> ParseAnswers(string body)
    {
        var answers = new Dictionary<int, BatchAnswer>();
        using var doc = JsonDocument.Parse(body);
        if (!doc.RootElement.TryGetProperty("responses", out var responses) || responses.ValueKind != JsonValueKind.Array) return answers;
        foreach (var item in responses.EnumerateArray())
        {
            if (!item.TryGetProperty("id", out var idElement) || !int.TryParse(idElement.GetString(), out var id)) continue;
            var status = item.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : 0;
            var retryAfter = TimeSpan.Zero;
            if (item.TryGetProperty("headers", out var headers) && headers.ValueKind == JsonValueKind.Object)
                foreach (var h in headers.EnumerateObject())
                    if (h.Name.Equals("Retry-After", StringComparison.OrdinalIgnoreCase) && int.TryParse(h.Value.ToString(), out var seconds))
                        retryAfter = TimeSpan.FromSeconds(Math.Max(0, seconds));
            var answer = new BatchAnswer { Status = status, RetryAfter = retryAfter };
            if (item.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.Object)
            {
                answer.Body = b.Clone();
                (answer.ErrorCode, answer.ErrorMessage) = GraphWireFormat.ReadError(b);
            }
            answers[id] = answer;
        }
        return answers;
    }

    internal sealed class BatchAnswer
    {
        public int Status { get; init; }
        public TimeSpan RetryAfter { get; init; }
        public JsonElement? Body { get; set; }
        public string? ErrorCode { get; set; }
        public string? ErrorMessage { get; set; }

        public string? String(string name) => Body is { } b && b.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        public int? Int(string name) => Body is { } b && b.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
    }
}
