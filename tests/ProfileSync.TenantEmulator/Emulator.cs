using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ProfileSync.TenantEmulator;

/// <summary>
/// Emulates, on loopback, the Microsoft Graph and SharePoint Online endpoints ProfileSync uses, as
/// m365-photo-facts.md describes them: answer shapes, error codes, per-service bearer tokens and
/// throttling. Each service host has its own port (Graph, My Site host, admin site), plus a control
/// port for tests (request log, tenant state) that needs no token.
/// </summary>
public sealed partial class Emulator : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = new();
    private readonly MailboxConcurrency _mailboxes = new();
    private readonly SharePointBudget _budget = new();
    private readonly ServiceCeilings _ceilings = new();
    private readonly FaultInjector _faults = new();
    private readonly ArmedRefusal _rejectGraph = new();
    private readonly ArmedRefusal _rejectSharePoint = new();
    /// <summary>Profile writes refused in the scenario's shape once armed (ProfileWriteRights other than "allowed" arms it at once).</summary>
    private readonly ArmedRefusal _refuseProfileWrites = new();

    private Emulator(Scenario scenario)
    {
        State = new TenantState(scenario);
        Identity = new IdentityEndpoint(scenario);
        SignedInUser = scenario.SignedInUser ?? $"admin@{scenario.Tenant}.onmicrosoft.com";
        var delegated = string.Equals(scenario.TokenKind, "delegated", StringComparison.OrdinalIgnoreCase);
        GraphToken = scenario.GraphToken ?? (delegated ? DelegatedToken(GraphAudience, SignedInUser) : "graph-" + RandomToken());
        SharePointToken = scenario.SharePointToken ?? (delegated ? DelegatedToken(SharePointAudience, SignedInUser) : "spo-" + RandomToken());
        if (scenario.ProfileWriteRights != "allowed") _refuseProfileWrites.Arm(0);
    }

    /// <summary>The user the scenario's static tokens belong to when TokenKind is "delegated".</summary>
    public string SignedInUser { get; }
    private bool DelegatedTokens => string.Equals(Scenario.TokenKind, "delegated", StringComparison.OrdinalIgnoreCase);

    /// <summary>A JWT-shaped token (unsigned: the emulator compares it as a string) with a user's claims: idtyp user, scp, upn.</summary>
    private static string DelegatedToken(string audience, string user)
    {
        static string Part(object o) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(o)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return Part(new { typ = "JWT", alg = "none" }) + "." + Part(new Dictionary<string, object>
        {
            ["aud"] = audience, ["idtyp"] = "user", ["scp"] = "AllSites.FullControl User.Read.All ProfilePhoto.ReadWrite.All",
            ["upn"] = user, ["exp"] = DateTimeOffset.UtcNow.AddHours(8).ToUnixTimeSeconds(), ["nonce"] = RandomToken(),
        }) + "." + RandomToken();
    }

    /// <summary>Calls each ceiling answered 429.</summary>
    public int CeilingHits(CeilingKind kind) => _ceilings.Hits(kind);

    /// <summary>What /limits does for the ceilings: a fresh window for each.</summary>
    public void ResetLimits()
    {
        _budget.Reset();
        _ceilings.Reset();
    }

    public TenantState State { get; }
    public IdentityEndpoint Identity { get; }
    /// <summary>IDENTITY_ENDPOINT for Azure.Identity's managed identity credential.</summary>
    public Uri IdentityUrl { get; private set; } = null!;
    public Scenario Scenario => State.Scenario;
    public string GraphToken { get; }
    public string SharePointToken { get; }
    public Uri GraphUrl { get; private set; } = null!;
    public Uri MySiteUrl { get; private set; } = null!;
    public Uri AdminUrl { get; private set; } = null!;
    public Uri ControlUrl { get; private set; } = null!;
    public int PeakMailboxConcurrency => _mailboxes.Peak;

    public static async Task<Emulator> StartAsync(Scenario scenario)
    {
        var emulator = new Emulator(scenario);
        emulator.GraphUrl = await emulator.StartHostAsync("graph", emulator.HandleGraphAsync);
        emulator.MySiteUrl = await emulator.StartHostAsync("mysite", ctx => emulator.HandleSharePointAsync(ctx, admin: false));
        emulator.AdminUrl = await emulator.StartHostAsync("admin", ctx => emulator.HandleSharePointAsync(ctx, admin: true));
        emulator.ControlUrl = await emulator.StartHostAsync("control", emulator.HandleControlAsync);
        var identityRoot = await emulator.StartHostAsync("identity", ctx => emulator.Identity.HandleAsync(ctx,
            status => emulator.State.Log("identity", ctx.Request.Method, RawTarget(ctx), status, true, false, ctx.Request.Headers.UserAgent.ToString())));
        emulator.IdentityUrl = new Uri(identityRoot, "msi/token");
        emulator.State.BindMySiteOrigin(emulator.MySiteUrl.GetLeftPart(UriPartial.Authority));
        return emulator;
    }

    private async Task<Uri> StartHostAsync(string name, RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            k.AllowSynchronousIO = false;
        });
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        _apps.Add(app);
        var address = app.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer)) is Microsoft.AspNetCore.Hosting.Server.IServer server
            ? server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First()
            : throw new InvalidOperationException("No server address for " + name);
        return new Uri(address.Replace("[::1]", "127.0.0.1").Replace("localhost", "127.0.0.1") + "/");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    // ---------- shared request plumbing ----------

    private static string RawTarget(HttpContext ctx) => ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path + ctx.Request.QueryString;

    private const string RightsKey = "rights";

    /// <summary>
    /// Whether the bearer token is good for this service: the scenario's static token (all rights), or
    /// one the identity endpoint issued for this service's resource and not yet expired. OtherToken:
    /// the request carried the other service's token (a leak the tests look for).
    /// </summary>
    private (bool Ok, bool OtherToken, string? Refusal) CheckToken(HttpContext ctx, string expected, string other, string audience)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (token is null) return (false, false, null);
        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(expected)))
        {
            ctx.Items[RightsKey] = TokenRights.All;
            return (true, false, null);
        }
        var (rights, refusal) = Identity.Check(token, audience);
        if (rights is not null)
        {
            ctx.Items[RightsKey] = rights;
            return (true, false, null);
        }
        var otherAudience = audience == GraphAudience ? SharePointAudience : GraphAudience;
        return (false, token == other || Identity.Check(token, otherAudience).Rights is not null, refusal);
    }

    private static TokenRights Rights(HttpContext ctx) => ctx.Items[RightsKey] as TokenRights ?? TokenRights.All;

    public const string GraphAudience = "https://graph.microsoft.com";
    private string SharePointAudience => $"https://{State.Scenario.Tenant}.sharepoint.com";

    private static async Task WriteJsonAsync(HttpContext ctx, int status, object body, string contentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        await ctx.Response.WriteAsync(body is string s ? s : JsonSerializer.Serialize(body));
    }

    // ---------- Microsoft Graph ----------

    private async Task HandleGraphAsync(HttpContext ctx)
    {
        var received = DateTimeOffset.UtcNow;
        var target = RawTarget(ctx);
        var (ok, other, refusal) = CheckToken(ctx, GraphToken, SharePointToken, GraphAudience);
        if (ok && _rejectGraph.Rejects()) (ok, refusal) = (false, "The token has been revoked.");
        var counted = CountBytes(ctx);
        try
        {
            if (!ok)
            {
                if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
                await GraphErrorAsync(ctx, 401, "InvalidAuthenticationToken", refusal ?? "Access token validation failure. Invalid audience.");
                return;
            }
            if (ctx.Request.Path.Value != "/v1.0/$batch") _ceilings.SpendGraph(Scenario, GraphCost(ctx.Request.Method, ctx.Request.Path.Value ?? ""), received);
            if (await InjectGraphFaultAsync(ctx, target)) return;
            await RouteGraphAsync(ctx);
        }
        finally
        {
            State.Log("graph", ctx.Request.Method, target, ctx.Response.StatusCode, ok, other, ctx.Request.Headers.UserAgent.ToString(), counted.Total(ctx), received);
        }
    }

    private async Task RouteGraphAsync(HttpContext ctx)
    {
        if (ctx.Request.Path.Value == "/v1.0/$batch" && ctx.Request.Method == "POST")
        {
            await BatchAsync(ctx);
            return;
        }
        if (ctx.Request.Path.Value == "/v1.0/subscribedSkus" && ctx.Request.Method == "GET")
        {
            await SubscribedSkusAsync(ctx);
            return;
        }
        // /v1.0/users/{id|upn}/photo[/$value] or /v1.0/users/{id}/photos/{size}/$value
        var segments = ctx.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 2 && segments[0] == "v1.0" && segments[1].Equals("users", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            if (!Rights(ctx).CanListUsers)
            {
                await GraphErrorAsync(ctx, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
                return;
            }
            await ListUsersAsync(ctx);
            return;
        }
        if (segments.Length == 3 && segments[0] == "v1.0" && segments[1].Equals("users", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            await ReadUserAsync(ctx, segments[2]);
            return;
        }
        if (segments.Length < 4 || segments[0] != "v1.0" || !segments[1].Equals("users", StringComparison.OrdinalIgnoreCase))
        {
            await GraphErrorAsync(ctx, 400, "BadRequest", $"Resource not found for the segment '{(segments.Length > 1 ? segments[1] : "")}'.");
            return;
        }
        if (!Rights(ctx).CanReadPhotos || !Scenario.GraphPhotoAllowed)
        {
            await GraphErrorAsync(ctx, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
            return;
        }
        var key = segments[2];
        if (key.StartsWith("('", StringComparison.Ordinal) && key.EndsWith("')", StringComparison.Ordinal)) key = key[2..^2].Replace("''", "'");
        var user = State.FindByKey(key);
        if (user is null || !user.InGraph)
        {
            if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
            await GraphErrorAsync(ctx, 404, "Request_ResourceNotFound", $"Resource '{key}' does not exist or one of its queried reference-property objects are not present.");
            return;
        }
        var rest = string.Join('/', segments.Skip(3));
        var isValue = rest.EndsWith("$value", StringComparison.Ordinal);
        var isWrite = rest == "photo/$value" && ctx.Request.Method is "PUT" or "PATCH" or "DELETE";
        if (!isWrite && (!(rest is "photo" or "photo/$value" || (rest.StartsWith("photos/", StringComparison.Ordinal) && isValue)) || ctx.Request.Method != "GET"))
        {
            await GraphErrorAsync(ctx, 400, "BadRequest", "Unsupported request.");
            return;
        }

        if (!_mailboxes.TryEnter(user.Id, Scenario.GraphMailboxConcurrency))
        {
            ctx.Response.Headers.RetryAfter = Scenario.GraphRetryAfterSeconds.ToString();
            await GraphErrorAsync(ctx, 429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.");
            return;
        }
        try
        {
            // The service's time is spent while the request counts against the mailbox's concurrency.
            if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
            if (isWrite)
            {
                await WritePhotoAsync(ctx, user);
                return;
            }
            if (!user.HasPhoto)
            {
                if (!isValue && user.NoPhotoAnswer == "gif1x1")
                {
                    await WriteJsonAsync(ctx, 200, new Dictionary<string, object?>
                    {
                        ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#users('{user.Id}')/photo/$entity",
                        ["@odata.mediaContentType"] = "image/gif",
                        ["@odata.mediaEtag"] = "",
                        ["id"] = "1x1",
                        ["height"] = 1,
                        ["width"] = 1,
                    });
                    return;
                }
                var code = isValue || user.NoPhotoAnswer == "gif1x1" ? "ImageNotFound" : user.NoPhotoAnswer ?? "ImageNotFound";
                await GraphErrorAsync(ctx, 404, code, code == "ImageNotFound"
                    ? "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."
                    : "The photo wasn't found.");
                return;
            }
            if (isValue && rest.StartsWith("photos/", StringComparison.Ordinal))
            {
                // One of the sizes Exchange keeps: a square JPEG of that side; none larger than the photo itself.
                var size = rest["photos/".Length..^"/$value".Length];
                var side = GraphPhotoSizes.Contains(size) ? int.Parse(size[..size.IndexOf('x')]) : 0;
                if (side == 0 || side > Math.Min(user.PhotoWidth, user.PhotoHeight))
                {
                    await GraphErrorAsync(ctx, 404, "ImageNotFound", "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.");
                    return;
                }
                byte[] sized;
                try { sized = PhotoFactory.SharePointThumbnail(user.Photo!, side, 90); }
                catch (Exception) { sized = user.Photo!; } // a scenario's corrupt photo stays corrupt at every size (Skia throws on bytes it cannot open)
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "image/jpeg";
                ctx.Response.Headers.ETag = user.PhotoETag;
                await ctx.Response.Body.WriteAsync(sized);
                return;
            }
            if (isValue)
            {
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = user.PhotoContentType;
                ctx.Response.Headers.ETag = user.PhotoETag;
                await ctx.Response.Body.WriteAsync(user.Photo!);
                return;
            }
            await WriteJsonAsync(ctx, 200, new Dictionary<string, object?>
            {
                ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#users('{user.Id}')/photo/$entity",
                ["@odata.mediaContentType"] = user.PhotoContentType,
                ["@odata.mediaEtag"] = user.PhotoETag,
                ["id"] = $"{user.PhotoWidth}x{user.PhotoHeight}",
                ["height"] = user.PhotoHeight,
                ["width"] = user.PhotoWidth,
            });
        }
        finally
        {
            _mailboxes.Exit(user.Id);
        }
    }

    /// <summary>GET /users/{id|upn}: one user (User.Read.All), the properties Graph selects by default that ProfileSync reads.</summary>
    private async Task ReadUserAsync(HttpContext ctx, string key)
    {
        if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
        if (!Rights(ctx).CanListUsers)
        {
            await GraphErrorAsync(ctx, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            return;
        }
        if (key.StartsWith("('", StringComparison.Ordinal) && key.EndsWith("')", StringComparison.Ordinal)) key = key[2..^2].Replace("''", "'");
        var user = State.FindByKey(key);
        if (user is null || !user.InGraph)
        {
            await GraphErrorAsync(ctx, 404, "Request_ResourceNotFound", $"Resource '{key}' does not exist or one of its queried reference-property objects are not present.");
            return;
        }
        await WriteJsonAsync(ctx, 200, new Dictionary<string, object?>
        {
            ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#users/$entity",
            ["id"] = user.Id,
            ["userPrincipalName"] = user.Upn,
            ["mail"] = user.Mailbox ? user.Upn : null,
        });
    }

    /// <summary>
    /// GET /users with $select, $top (at most 999), $count and the advanced filter "mail ne null", which
    /// Graph only accepts with ConsistencyLevel: eventual and $count=true. Pages via @odata.nextLink.
    /// </summary>
    private async Task ListUsersAsync(HttpContext ctx)
    {
        if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
        var query = ctx.Request.Query;
        var filter = query["$filter"].ToString();
        var eventual = ctx.Request.Headers["ConsistencyLevel"].ToString().Equals("eventual", StringComparison.OrdinalIgnoreCase);
        var count = query["$count"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        if (filter.Length > 0 && !filter.Trim().Equals("mail ne null", StringComparison.OrdinalIgnoreCase))
        {
            await GraphErrorAsync(ctx, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified.");
            return;
        }
        if (filter.Length > 0 && !(eventual && count))
        {
            await GraphErrorAsync(ctx, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'mail' of resource 'User'.");
            return;
        }
        var top = int.TryParse(query["$top"], out var t) ? t : 100;
        if (top is < 1 or > 999)
        {
            await GraphErrorAsync(ctx, 400, "Request_UnsupportedQuery", "Invalid page size specified: '" + top + "'. Must be between 1 and 999 inclusive.");
            return;
        }
        var skip = int.TryParse(query["$skiptoken"], out var k) ? k : 0;
        var all = DirectoryOrder(filter.Length > 0);
        var page = all.Skip(skip).Take(top).ToList();
        var body = new JsonObject { ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#users(id,userPrincipalName,mail)" };
        if (count) body["@odata.count"] = all.Count;
        body["value"] = new JsonArray(page.Select(u => (JsonNode)new JsonObject { ["id"] = u.Id, ["userPrincipalName"] = u.Upn, ["mail"] = u.Mailbox ? u.Upn : null }).ToArray());
        if (skip + top < all.Count)
        {
            var next = $"{GraphUrl}v1.0/users?$select=id,userPrincipalName,mail&$top={top}&$skiptoken={skip + top}";
            if (filter.Length > 0) next += "&$filter=" + Uri.EscapeDataString(filter) + "&$count=true";
            body["@odata.nextLink"] = next;
        }
        await WriteJsonAsync(ctx, 200, body.ToJsonString());
    }

    private List<EmulatedUser> DirectoryOrder(bool mailboxOnly) =>
        State.DirectoryOrder().Where(u => !mailboxOnly || u.Mailbox).ToList();

    /// <summary>Graph JSON batching: at most 20 requests; Graph hands at most 4 of them to the service at a time.</summary>
    /// <summary>A Graph call's fixed cost in SharePoint resource units: 1 for one item or a download, 2 for a list or a write.</summary>
    private static double GraphCost(string method, string url)
    {
        if (!HttpMethods.IsGet(method)) return 2;
        var q = url.IndexOf('?');
        var path = (q < 0 ? url : url[..q]).TrimEnd('/');
        return path.EndsWith("/users", StringComparison.OrdinalIgnoreCase) || path.EndsWith("/subscribedSkus", StringComparison.OrdinalIgnoreCase) ? 2 : 1;
    }

    /// <summary>GET /subscribedSkus (Organization.Read.All): a SharePoint-bearing SKU with Scenario.Licences enabled units, and a free SKU without SharePoint.</summary>
    private async Task SubscribedSkusAsync(HttpContext ctx)
    {
        if (Scenario.SubscribedSkusForbidden || (!Rights(ctx).Full && !Rights(ctx).Identity!.GraphPermissions.Any(p => p is "Organization.Read.All" or "Directory.Read.All")))
        {
            await GraphErrorAsync(ctx, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            return;
        }
        static object Sku(string part, int enabled, int consumed, params string[] plans) => new
        {
            capabilityStatus = "Enabled", consumedUnits = consumed, appliesTo = "User", skuPartNumber = part,
            prepaidUnits = new { enabled, suspended = 0, warning = 0, lockedOut = 0 },
            servicePlans = plans.Select(p => new { servicePlanName = p, provisioningStatus = "Success", appliesTo = "User" }),
        };
        await WriteJsonAsync(ctx, 200, new Dictionary<string, object>
        {
            ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#subscribedSkus",
            ["value"] = new[]
            {
                Sku("SPE_E3", Scenario.Licences, Scenario.Licences, "EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "SHAREPOINTWAC"),
                Sku("POWER_BI_STANDARD", 1000000, 12, "BI_AZURE_P0"),
            },
        });
    }

    private async Task BatchAsync(HttpContext outer)
    {
        JsonNode? body;
        try { body = await JsonNode.ParseAsync(outer.Request.Body); }
        catch (JsonException) { body = null; }
        if (body?["requests"] is not JsonArray requests)
        {
            await GraphErrorAsync(outer, 400, "BadRequest", "Invalid batch payload format.");
            return;
        }
        if (requests.Count > 20)
        {
            await GraphErrorAsync(outer, 400, "BadRequest", "Maximum number of requests in a batch is 20.");
            return;
        }
        using var gate = new SemaphoreSlim(4);
        var userAgent = outer.Request.Headers.UserAgent.ToString();
        var responses = await Task.WhenAll(requests.Select(async item =>
        {
            var id = item?["id"]?.GetValue<string>() ?? "";
            var method = item?["method"]?.GetValue<string>() ?? "GET";
            var url = item?["url"]?.GetValue<string>() ?? "";
            _ceilings.SpendGraph(Scenario, GraphCost(method, url), DateTimeOffset.UtcNow); // $batch items count one by one
            await gate.WaitAsync();
            try
            {
                var inner = new DefaultHttpContext();
                inner.Items[RightsKey] = Rights(outer);
                inner.Request.Method = method;
                var q = url.IndexOf('?');
                inner.Request.Path = PathString.FromUriComponent("/v1.0" + (url.StartsWith('/') ? "" : "/") + (q < 0 ? url : url[..q]));
                if (q >= 0) inner.Request.QueryString = new QueryString(url[q..]);
                var buffer = new MemoryStream();
                inner.Response.Body = buffer;
                await RouteGraphAsync(inner);
                State.Log("graph-batch-item", method, url, inner.Response.StatusCode, true, false, userAgent);
                var headers = new JsonObject();
                foreach (var (k, v) in inner.Response.Headers) headers[k] = v.ToString();
                if (inner.Response.ContentType is string ct) headers["Content-Type"] = ct;
                var bytes = buffer.ToArray();
                JsonNode? responseBody = null;
                if (bytes.Length > 0)
                    responseBody = inner.Response.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true
                        ? JsonNode.Parse(bytes)
                        : JsonValue.Create(Convert.ToBase64String(bytes)); // binary bodies come back base64-encoded
                var response = new JsonObject { ["id"] = id, ["status"] = inner.Response.StatusCode, ["headers"] = headers };
                if (responseBody is not null) response["body"] = responseBody;
                return response;
            }
            finally
            {
                gate.Release();
            }
        }));
        await WriteJsonAsync(outer, 200, new JsonObject { ["responses"] = new JsonArray(responses.Cast<JsonNode?>().ToArray()) }.ToJsonString(), "application/json");
    }

    private static Task GraphErrorAsync(HttpContext ctx, int status, string code, string message) =>
        WriteJsonAsync(ctx, status, new
        {
            error = new
            {
                code,
                message,
                innerError = new Dictionary<string, string>
                {
                    ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss"),
                    ["request-id"] = Guid.NewGuid().ToString(),
                    ["client-request-id"] = Guid.NewGuid().ToString(),
                },
            },
        }, "application/json");

    // ---------- injected faults (issue 5) ----------

    private async Task<bool> InjectGraphFaultAsync(HttpContext ctx, string target)
    {
        switch (_faults.Decide(Scenario.Faults, "graph", ctx.Request.Method, target, false, false))
        {
            case "throttle":
                ctx.Response.Headers.RetryAfter = Scenario.Faults!.RetryAfterSeconds.ToString();
                await GraphErrorAsync(ctx, 429, "TooManyRequests", "Too many requests. Retry after the time in the Retry-After header.");
                return true;
            case "server-error":
                await GraphErrorAsync(ctx, 500, "generalException", "An unexpected error occurred.");
                return true;
            case "reset" or "reset-upload":
                ctx.Abort();
                return true;
            case "timeout":
                await HoldWithoutAnswerAsync(ctx);
                return true;
            default:
                return false;
        }
    }

    /// <summary>An injected timeout: no answer until the client gives up (or the hold time passes), then the connection drops.</summary>
    private async Task HoldWithoutAnswerAsync(HttpContext ctx)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(Scenario.Faults!.TimeoutSeconds), ctx.RequestAborted); }
        catch (OperationCanceledException) { }
        ctx.Abort();
    }

    private async Task<bool> InjectSharePointFaultAsync(HttpContext ctx, string target)
    {
        var path = ctx.Request.Path.Value ?? "";
        var isUpload = ctx.Request.Method == "POST" && path.Contains("/Files/AddUsingPath(", StringComparison.OrdinalIgnoreCase);
        var isProfileWrite = ctx.Request.Method == "POST" && path.EndsWith("/SetSingleValueProfileProperty", StringComparison.OrdinalIgnoreCase);
        switch (_faults.Decide(Scenario.Faults, "sharepoint", ctx.Request.Method, target, isUpload, isProfileWrite))
        {
            case "throttle":
                ctx.Response.Headers.RetryAfter = Scenario.Faults!.RetryAfterSeconds.ToString();
                await ThrottledAsync(ctx, 429);
                return true;
            case "throttle-no-retry-after":
                await SharePointErrorAsync(ctx, 503, "-1, Microsoft.SharePoint.Client.ServerUnavailableException", "The service is unavailable.");
                return true;
            case "server-error" or "profile-write-error":
                await SharePointErrorAsync(ctx, 500, "-1, System.InvalidOperationException", "Unexpected error on the server.");
                return true;
            case "reset":
                ctx.Abort();
                return true;
            case "timeout":
                await HoldWithoutAnswerAsync(ctx);
                return true;
            case "reset-upload":
                // Half the body arrives, then the connection drops: nothing is stored.
                var half = new byte[Math.Max(1, (int)((ctx.Request.ContentLength ?? 2) / 2))];
                try { await ctx.Request.Body.ReadAtLeastAsync(half, half.Length, throwOnEndOfStream: false); } catch (IOException) { }
                ctx.Abort();
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Graph photo writes (facts doc, section 4): PUT .../photo/$value with an image/jpeg or image/png
    /// body up to 4 MB, ProfilePhoto.ReadWrite.All; the photo is then what the reads return, under a new
    /// etag. DELETE .../photo/$value removes it (204; no photo: 404 ImageNotFound). Called inside the
    /// mailbox's concurrency gate, as reads are.
    /// </summary>
    private async Task WritePhotoAsync(HttpContext ctx, EmulatedUser user)
    {
        if (!Rights(ctx).CanWritePhotos)
        {
            await GraphErrorAsync(ctx, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
            return;
        }
        if (!user.Mailbox)
        {
            await GraphErrorAsync(ctx, 404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.");
            return;
        }
        if (ctx.Request.Method == "DELETE")
        {
            if (!user.HasPhoto)
            {
                await GraphErrorAsync(ctx, 404, "ImageNotFound", "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.");
                return;
            }
            user.Photo = null;
            user.NoPhotoAnswer = "ImageNotFound";
            user.PhotoWrites.Enqueue("DELETE");
            ctx.Response.StatusCode = 204;
            return;
        }
        var type = ctx.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type is not ("image/jpeg" or "image/png"))
        {
            await GraphErrorAsync(ctx, 400, "ErrorInvalidRequest", $"The content type '{type}' is not supported for a photo; use image/jpeg.");
            return;
        }
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body);
        if (body.Length > 4 * 1024 * 1024)
        {
            await GraphErrorAsync(ctx, 413, "ErrorRequestEntityTooLarge", "The photo is larger than 4 MB.");
            return;
        }
        var bytes = body.ToArray();
        using var codec = SkiaSharp.SKCodec.Create(new MemoryStream(bytes));
        if (codec is null)
        {
            await GraphErrorAsync(ctx, 400, "ErrorInvalidRequest", "The photo is not an image.");
            return;
        }
        user.Photo = bytes;
        (user.PhotoContentType, user.PhotoWidth, user.PhotoHeight, user.NoPhotoAnswer) = (type, codec.Info.Width, codec.Info.Height, null);
        user.PhotoWrites.Enqueue("PUT");
        ctx.Response.StatusCode = 200;
    }

    /// <summary>The sizes Graph's photos/{size} serves (facts doc, Graph profilePhoto).</summary>
    private static readonly HashSet<string> GraphPhotoSizes = new(StringComparer.Ordinal) { "48x48", "64x64", "96x96", "120x120", "240x240", "360x360", "432x432", "504x504", "648x648" };

    public int InjectedFaults => _faults.Injected;

    /// <summary>What the control call /tokens/reject does, for in-process tests: after N more requests the service answers 401 to every token.</summary>
    public void RejectTokens(string service, int after) => (service == "graph" ? _rejectGraph : _rejectSharePoint).Arm(after);

    /// <summary>
    /// What POST /rights does: profile writes refused in <paramref name="shape"/> ("403" or "500") after
    /// <paramref name="after"/> more of them, or allowed again ("allowed"); uploads allowed or not.
    /// </summary>
    public void SetRights(string shape, int after = 0, bool? uploads = null)
    {
        Scenario.ProfileWriteRights = shape;
        if (shape == "allowed") _refuseProfileWrites.Disarm(); else _refuseProfileWrites.Arm(after);
        if (uploads is bool allowed) Scenario.UploadAllowed = allowed;
    }

    /// <summary>What /tokens/accept does: tokens are accepted again.</summary>
    public void AcceptTokens()
    {
        _rejectGraph.Disarm();
        _rejectSharePoint.Disarm();
    }
    public IReadOnlyDictionary<string, int> InjectedFaultsByKind => _faults.ByKind;

    // ---------- SharePoint Online ----------

    private async Task HandleSharePointAsync(HttpContext ctx, bool admin)
    {
        var received = DateTimeOffset.UtcNow;
        var target = RawTarget(ctx);
        var (ok, other, refusal) = CheckToken(ctx, SharePointToken, GraphToken, SharePointAudience);
        if (ok && _rejectSharePoint.Rejects()) (ok, refusal) = (false, "The token has been revoked.");
        var counted = CountBytes(ctx);
        try
        {
            if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
            var (allowed, used, retryAfter) = _budget.Spend(Scenario.SharePointRequestsPerMinute, DateTimeOffset.UtcNow);
            if (Scenario.SharePointRequestsPerMinute > 0 && used * 5 >= Scenario.SharePointRequestsPerMinute * 4)
            {
                ctx.Response.Headers["RateLimit-Limit"] = Scenario.SharePointRequestsPerMinute.ToString();
                ctx.Response.Headers["RateLimit-Remaining"] = Math.Max(0, Scenario.SharePointRequestsPerMinute - used).ToString();
                ctx.Response.Headers["RateLimit-Reset"] = Math.Ceiling(retryAfter.TotalSeconds).ToString();
            }
            if (!ok)
            {
                ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"emulated-tenant\",client_id=\"00000003-0000-0ff1-ce00-000000000000\"";
                await WriteJsonAsync(ctx, 401, JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["error_description"] = refusal is null ? "Invalid JWT token. The token is not valid for this resource." : "Invalid JWT token. " + refusal,
                }), "application/json");
                return;
            }
            var verdict = _ceilings.Spend(Scenario, target.Contains("SP.UserProfiles.PeopleManager", StringComparison.OrdinalIgnoreCase),
                DelegatedTokens && Rights(ctx).Full ? SignedInUser : null, DateTimeOffset.UtcNow);
            if (verdict.RateLimit is { } rate)
            {
                // Only for the per-app limit, and only above 80% of it.
                ctx.Response.Headers["RateLimit-Limit"] = rate.Limit.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
                ctx.Response.Headers["RateLimit-Remaining"] = Math.Floor(rate.Remaining).ToString("0", System.Globalization.CultureInfo.InvariantCulture);
                ctx.Response.Headers["RateLimit-Reset"] = rate.Reset.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            if (verdict.Refused is not null)
            {
                // As SharePoint answers 429: Retry-After (seconds until the window frees, scaled), a plain body, no SPQueryThrottledException (that is its 500 view-threshold error).
                ctx.Response.Headers.RetryAfter = verdict.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ThrottledAsync(ctx, 429);
                return;
            }
            if (admin && !Rights(ctx).IsSharePointAdmin)
            {
                // The tenant admin site is open to SharePoint administrators (or apps with full control) only.
                await SharePointErrorAsync(ctx, 403, "-2147024891, System.UnauthorizedAccessException",
                    "Access denied. You do not have permission to perform this action or access this resource.");
                return;
            }
            if (!allowed)
            {
                ctx.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                await ThrottledAsync(ctx, Scenario.SharePointThrottleStatus);
                return;
            }
            if (await InjectSharePointFaultAsync(ctx, target)) return;
            await RouteSharePointAsync(ctx, admin);
        }
        finally
        {
            State.Log(admin ? "admin" : "mysite", ctx.Request.Method, target, ctx.Response.StatusCode, ok, other, ctx.Request.Headers.UserAgent.ToString(), counted.Total(ctx), received);
        }
    }

    private async Task RouteSharePointAsync(HttpContext ctx, bool admin)
    {
        var path = ctx.Request.Path.Value ?? "";
        const string pm = "/_api/SP.UserProfiles.PeopleManager/";
        if (path.StartsWith(pm + "GetPropertiesFor(", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            await GetPropertiesForAsync(ctx, Argument(ctx, path, "accountName"));
            return;
        }
        if (path.Equals(pm + "SetSingleValueProfileProperty", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "POST")
        {
            await SetSingleValueAsync(ctx, admin);
            return;
        }
        if (path.Equals("/_api/web", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            var web = new JsonObject { ["Title"] = admin ? "SharePoint admin center" : "My Site host", ["Url"] = admin ? AdminUrl.ToString().TrimEnd('/') : State.MySiteOrigin };
            await WriteSharePointAsync(ctx, web, Verbose(ctx), "SP.Web");
            return;
        }
        const string folderFn = "/_api/web/GetFolderByServerRelativePath(";
        const string fileFn = "/_api/web/GetFileByServerRelativePath(";
        if (!admin && path.StartsWith(folderFn, StringComparison.OrdinalIgnoreCase))
        {
            var folder = Argument(ctx, path, "decodedurl");
            var after = path[(path.IndexOf(')') + 1)..];
            if (after.Equals("/Folders", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
            {
                await FoldersAsync(ctx, folder);
                return;
            }
            if (after.StartsWith("/Files/AddUsingPath(", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "POST")
            {
                if (!Scenario.UploadAllowed)
                {
                    await SharePointErrorAsync(ctx, 403, "-2147024891, System.UnauthorizedAccessException",
                        "Access denied. You do not have permission to perform this action or access this resource.");
                    return;
                }
                if (Scenario.FolderItemThreshold > 0 && Scenario.ThresholdOnAddUsingPath && folder is not null && State.CountFilesIn(folder) >= Scenario.FolderItemThreshold)
                {
                    await SharePointErrorAsync(ctx, 500, "-2147024860, Microsoft.SharePoint.SPQueryThrottledException",
                        "The attempted operation is prohibited because it exceeds the list view threshold.");
                    return;
                }
                await AddFileAsync(ctx, folder, Argument(ctx, after, "decodedurl"), after.Contains("overwrite=true", StringComparison.OrdinalIgnoreCase));
                return;
            }
        }
        if (!admin && path.StartsWith("/_api/web/GetList(", StringComparison.OrdinalIgnoreCase) && path.EndsWith(")/items", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            await ListItemsAsync(ctx, Argument(ctx, path, "", listAlias: true));
            return;
        }
        if (!admin && path.StartsWith(fileFn, StringComparison.OrdinalIgnoreCase) && path.EndsWith(")/recycle()", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "POST")
        {
            var file = Argument(ctx, path, "decodedurl");
            if (file is null || !State.DeleteFile(file))
            {
                await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "File Not Found.");
                return;
            }
            var recycled = new JsonObject { ["value"] = Guid.NewGuid().ToString() };
            await WriteJsonAsync(ctx, 200, (Verbose(ctx) ? new JsonObject { ["d"] = new JsonObject { ["Recycle"] = Guid.NewGuid().ToString() } } : recycled).ToJsonString(), "application/json;odata=nometadata;charset=utf-8");
            return;
        }
        if (!admin && path.StartsWith(fileFn, StringComparison.OrdinalIgnoreCase) && path.EndsWith(")/$value", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            var file = Argument(ctx, path, "decodedurl");
            var bytes = file is null ? null : State.ReadFile(file);
            if (bytes is null)
            {
                await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "File Not Found.");
                return;
            }
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/octet-stream";
            await ctx.Response.Body.WriteAsync(bytes);
            return;
        }
        if (path.Equals("/_api/search/query", StringComparison.OrdinalIgnoreCase) && ctx.Request.Method == "GET")
        {
            await PeopleSearchAsync(ctx);
            return;
        }
        await SharePointErrorAsync(ctx, 404, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", $"The expression \"{path}\" is not valid.");
    }

    /// <summary>A function argument, inline (name='x') or through a parameter alias (name=@a1 with ?@a1='x').</summary>
    private static string? Argument(HttpContext ctx, string path, string name, bool listAlias = false)
    {
        string value;
        if (listAlias)
        {
            // GetList(@a1) or GetList('/User Photos'): a positional argument.
            value = path[(path.IndexOf('(') + 1)..];
        }
        else
        {
            var at = path.IndexOf(name + "=", StringComparison.OrdinalIgnoreCase);
            if (at < 0) return null;
            value = path[(at + name.Length + 1)..];
        }
        if (value.StartsWith('@'))
        {
            var end = value.IndexOfAny(new[] { ',', ')' });
            var alias = end < 0 ? value : value[..end];
            var raw = ctx.Request.Query[alias].ToString();
            return ODataString(raw);
        }
        if (value.StartsWith('\''))
        {
            var sb = new StringBuilder();
            for (var i = 1; i < value.Length; i++)
            {
                if (value[i] == '\'')
                {
                    if (i + 1 < value.Length && value[i + 1] == '\'') { sb.Append('\''); i++; continue; }
                    return sb.ToString();
                }
                sb.Append(value[i]);
            }
        }
        return null;
    }

    private static string? ODataString(string literal) =>
        literal.Length >= 2 && literal[0] == '\'' && literal[^1] == '\'' ? literal[1..^1].Replace("''", "'") : null;

    private static bool Verbose(HttpContext ctx) => ctx.Request.Headers.Accept.ToString().Contains("odata=verbose", StringComparison.OrdinalIgnoreCase);

    private async Task GetPropertiesForAsync(HttpContext ctx, string? accountName)
    {
        var user = accountName is null ? null : State.FindByClaims(accountName);
        var verbose = Verbose(ctx);
        if (user?.Profile is null)
        {
            if (Scenario.MissingProfileAnswer == "empty-object" || verbose)
            {
                var empty = new JsonObject { ["AccountName"] = null, ["PictureUrl"] = null, ["UserProfileProperties"] = new JsonArray() };
                await WriteSharePointAsync(ctx, empty, verbose, "SP.UserProfiles.PersonProperties");
            }
            else
            {
                await WriteJsonAsync(ctx, 200, "{\"odata.null\":true}", "application/json;odata=nometadata;charset=utf-8");
            }
            return;
        }
        Dictionary<string, string> props;
        lock (user.Profile) props = new Dictionary<string, string>(user.Profile);
        var picture = props.GetValueOrDefault("PictureURL");
        var topPicture = string.IsNullOrEmpty(picture) || props.GetValueOrDefault("SPS-PicturePlaceholderState") == "1"
            ? null
            : picture + "?t=" + props.GetValueOrDefault("SPS-PictureTimestamp");
        var list = new JsonArray();
        foreach (var (key, value) in props)
        {
            var item = new JsonObject { ["Key"] = key, ["Value"] = value, ["ValueType"] = "Edm.String" };
            if (verbose) item.Insert(0, "__metadata", new JsonObject { ["type"] = "SP.KeyValue" });
            list.Add(item);
        }
        var body = new JsonObject
        {
            ["AccountName"] = user.ClaimsName,
            ["DirectReports"] = verbose ? new JsonObject { ["__metadata"] = new JsonObject { ["type"] = "Collection(Edm.String)" }, ["results"] = new JsonArray() } : new JsonArray(),
            ["DisplayName"] = props.GetValueOrDefault("PreferredName"),
            ["Email"] = user.Upn,
            ["IsFollowed"] = false,
            ["PersonalUrl"] = $"{State.MySiteOrigin}/personal/{string.Concat(user.Upn.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'))}/",
            ["PictureUrl"] = topPicture,
            ["Title"] = null,
            ["UserProfileProperties"] = verbose ? new JsonObject { ["results"] = list } : list,
            ["UserUrl"] = $"{State.MySiteOrigin}/Person.aspx?accountname={Uri.EscapeDataString(user.ClaimsName)}",
        };
        await WriteSharePointAsync(ctx, body, verbose, "SP.UserProfiles.PersonProperties");
    }

    private async Task SetSingleValueAsync(HttpContext ctx, bool admin)
    {
        if (!admin)
        {
            // Another user's profile can be written only through the admin site.
            await SharePointErrorAsync(ctx, 403, "-2147024891, System.UnauthorizedAccessException",
                "Access denied. You do not have permission to perform this action or access this resource.");
            return;
        }
        if (Scenario.ProfileWriteRights != "allowed" && _refuseProfileWrites.Rejects())
        {
            // The two shapes in which SharePoint refuses a sign-in that may not write other users' profiles; both meet every user.
            if (Scenario.ProfileWriteRights == "500")
                await SharePointErrorAsync(ctx, 500, "-2146232832, Microsoft.SharePoint.SPException",
                    "This operation requires you to be managing your own data or have administrator privileges.");
            else
                await SharePointErrorAsync(ctx, 403, "-2147024891, System.UnauthorizedAccessException",
                    "Access denied. You do not have permission to perform this action or access this resource.");
            return;
        }
        JsonNode? body;
        try { body = await JsonNode.ParseAsync(ctx.Request.Body); }
        catch (JsonException) { body = null; }
        var account = body?["accountName"]?.GetValue<string>();
        var name = body?["propertyName"]?.GetValue<string>();
        var value = body?["propertyValue"]?.GetValue<string>();
        if (account is null || name is null || value is null)
        {
            await SharePointErrorAsync(ctx, 400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "The parameter accountName, propertyName or propertyValue is missing.");
            return;
        }
        var user = State.FindByClaims(account);
        if (user?.Profile is null)
        {
            await SharePointErrorAsync(ctx, 500, "-1, Microsoft.Office.Server.UserProfiles.UserNotFoundException",
                "User Profile Error 1000: User Not Found: Could not load profile data from the database.");
            return;
        }
        lock (user.Profile)
        {
            if (!user.Profile.ContainsKey(name))
            {
                name = null;
            }
            else
            {
                user.Profile[name] = value;
                user.PropertyWrites.Enqueue(name);
            }
        }
        if (name is null)
        {
            await SharePointErrorAsync(ctx, 500, "-1, Microsoft.Office.Server.UserProfiles.PropertyNotDefinedException", "Property Not Defined.");
            return;
        }
        await WriteJsonAsync(ctx, 200, "{\"odata.null\":true}", "application/json;odata=nometadata;charset=utf-8");
    }

    /// <summary>List items of the User Photos library, all folders, $top at most 5000, paged with a skiptoken.</summary>
    private async Task ListItemsAsync(HttpContext ctx, string? list)
    {
        if (list is null || !list.TrimEnd('/').Equals(TenantState.LibraryUrl, StringComparison.OrdinalIgnoreCase))
        {
            await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "List does not exist.");
            return;
        }
        var top = int.TryParse(ctx.Request.Query["$top"], out var t) ? t : 100;
        if (top is < 1 or > 5000)
        {
            await SharePointErrorAsync(ctx, 400, "-2147024809, System.ArgumentException", "The $top value must be between 1 and 5000.");
            return;
        }
        var skipToken = ctx.Request.Query["$skiptoken"].ToString();
        var after = skipToken.StartsWith("Paged=TRUE&p_ID=", StringComparison.Ordinal) && int.TryParse(skipToken["Paged=TRUE&p_ID=".Length..], out var id) ? id : 0;
        var entries = State.FolderUrls().Select(f => (Path: f, Folder: true)).Concat(State.FilePaths().Select(f => (Path: f, Folder: false))).ToList();
        var page = entries.Select((e, i) => (e.Path, e.Folder, Id: i + 1)).Where(e => e.Id > after).Take(top).ToList();
        var verbose = Verbose(ctx);
        var items = new JsonArray(page.Select(e =>
        {
            var item = new JsonObject { ["FileRef"] = e.Path, ["FSObjType"] = e.Folder ? 1 : 0, ["Id"] = e.Id };
            if (verbose) item.Insert(0, "__metadata", new JsonObject { ["type"] = "SP.Data.UserPhotosItem" });
            return (JsonNode)item;
        }).ToArray());
        string? next = null;
        if (page.Count == top && page[^1].Id < entries.Count)
            next = $"{State.MySiteOrigin}/_api/web/GetList(@a1)/items?@a1={Uri.EscapeDataString("'" + TenantState.LibraryUrl + "'")}&$select=FileRef,FSObjType&$top={top}&$skiptoken={Uri.EscapeDataString("Paged=TRUE&p_ID=" + page[^1].Id)}";
        if (verbose)
        {
            var d = new JsonObject { ["results"] = items };
            if (next is not null) d["__next"] = next;
            await WriteJsonAsync(ctx, 200, new JsonObject { ["d"] = d }.ToJsonString(), "application/json;odata=verbose;charset=utf-8");
        }
        else
        {
            var body = new JsonObject { ["value"] = items };
            if (next is not null) body["odata.nextLink"] = next;
            await WriteJsonAsync(ctx, 200, body.ToJsonString(), "application/json;odata=nometadata;charset=utf-8");
        }
    }

    private async Task FoldersAsync(HttpContext ctx, string? folder)
    {
        if (folder is null || !folder.TrimEnd('/').Equals(TenantState.LibraryUrl, StringComparison.OrdinalIgnoreCase))
        {
            await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "File Not Found.");
            return;
        }
        var verbose = Verbose(ctx);
        var items = new JsonArray();
        foreach (var url in State.FolderUrls())
        {
            var item = new JsonObject { ["ItemCount"] = State.CountFilesIn(url), ["Name"] = url[(url.LastIndexOf('/') + 1)..], ["ServerRelativeUrl"] = url };
            if (verbose) item.Insert(0, "__metadata", new JsonObject { ["type"] = "SP.Folder" });
            items.Add(item);
        }
        if (verbose)
            await WriteJsonAsync(ctx, 200, new JsonObject { ["d"] = new JsonObject { ["results"] = items } }.ToJsonString(), "application/json;odata=verbose;charset=utf-8");
        else
            await WriteJsonAsync(ctx, 200, new JsonObject { ["value"] = items }.ToJsonString(), "application/json;odata=nometadata;charset=utf-8");
    }

    private async Task AddFileAsync(HttpContext ctx, string? folder, string? name, bool overwrite)
    {
        if (folder is null || name is null || name.Contains('/') || !State.FolderExists(folder))
        {
            await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "File Not Found.");
            return;
        }
        var path = folder.TrimEnd('/') + "/" + name;
        if (!overwrite && State.ReadFile(path) is not null)
        {
            await SharePointErrorAsync(ctx, 400, "-2130575257, Microsoft.SharePoint.SPException", $"A file with the name {path} already exists.");
            return;
        }
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer);
        State.WriteFile(path, buffer.ToArray());
        var file = new JsonObject { ["Length"] = buffer.Length.ToString(), ["Name"] = name, ["ServerRelativeUrl"] = path, ["TimeLastModified"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ") };
        await WriteSharePointAsync(ctx, file, Verbose(ctx), "SP.File");
    }

    private static Task WriteSharePointAsync(HttpContext ctx, JsonObject body, bool verbose, string type)
    {
        if (!verbose) return WriteJsonAsync(ctx, 200, body.ToJsonString(), "application/json;odata=nometadata;charset=utf-8");
        body.Insert(0, "__metadata", new JsonObject { ["type"] = type });
        return WriteJsonAsync(ctx, 200, new JsonObject { ["d"] = body }.ToJsonString(), "application/json;odata=verbose;charset=utf-8");
    }

    /// <summary>
    /// SharePoint's throttling answer: 429 (or 503) with a plain text body. Not the SPQueryThrottledException
    /// code: that is the list view threshold's error, answered 500, and retrying it does not help.
    /// </summary>
    private static Task ThrottledAsync(HttpContext ctx, int status)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        return ctx.Response.WriteAsync(status == 429
            ? "429 TOO MANY REQUESTS: the request has been throttled. Retry after the time in the Retry-After header."
            : "503 Server Unavailable: the service is busy. Retry after the time in the Retry-After header.");
    }

    private static Task SharePointErrorAsync(HttpContext ctx, int status, string code, string message)
    {
        var verbose = Verbose(ctx);
        var error = new JsonObject { ["code"] = code, ["message"] = new JsonObject { ["lang"] = "en-US", ["value"] = message } };
        var body = verbose ? new JsonObject { ["error"] = error } : new JsonObject { ["odata.error"] = error };
        return WriteJsonAsync(ctx, status, body.ToJsonString(), verbose ? "application/json;odata=verbose;charset=utf-8" : "application/json;odata=nometadata;charset=utf-8");
    }

    private static CountingStream CountBytes(HttpContext ctx)
    {
        var counting = new CountingStream(ctx.Response.Body);
        ctx.Response.Body = counting;
        return counting;
    }

    /// <summary>Counts the bytes of an answer, for the benchmark's bytes per user.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _written;
        public long Total(HttpContext ctx) => _written + (ctx.Request.ContentLength ?? 0);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { _written += count; inner.Write(buffer, offset, count); }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _written += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    // ---------- control (tests only, no token) ----------

    private async Task HandleControlAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        if (path == "/log" && ctx.Request.Method == "GET")
        {
            await WriteJsonAsync(ctx, 200, State.RequestLog.Select(e => new
            {
                e.Sequence, e.Service, e.Method, e.Target, e.Status, e.Authorized, e.CarriedOtherServiceToken, e.UserAgent, e.IsWrite,
                // Unix milliseconds (no date parsing on the test's side): when the request arrived, and when its answer was done.
                ReceivedAtMs = (e.ReceivedAt ?? e.At).ToUnixTimeMilliseconds(), AtMs = e.At.ToUnixTimeMilliseconds(),
            }), "application/json");
            return;
        }
        if (path == "/log/clear" && ctx.Request.Method == "POST")
        {
            State.ClearLog();
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/files" && ctx.Request.Method == "GET")
        {
            await WriteJsonAsync(ctx, 200, State.Files().Select(f => new { f.Path, f.Length }), "application/json");
            return;
        }
        if (path == "/users" && ctx.Request.Method == "GET")
        {
            await WriteJsonAsync(ctx, 200, State.Users.Select(u => u.Upn).OrderBy(u => u, StringComparer.Ordinal), "application/json");
            return;
        }
        if (path.StartsWith("/users/", StringComparison.Ordinal) && ctx.Request.Method == "GET")
        {
            var user = State.FindByKey(path["/users/".Length..]);
            if (user is null) { ctx.Response.StatusCode = 404; return; }
            Dictionary<string, string>? profile = null;
            if (user.Profile is not null) lock (user.Profile) profile = new Dictionary<string, string>(user.Profile);
            await WriteJsonAsync(ctx, 200, new { user.Upn, user.Id, user.PhotoETag, user.HasPhoto, Profile = profile, PropertyWrites = user.PropertyWrites.ToArray(), PhotoWrites = user.PhotoWrites.ToArray() }, "application/json");
            return;
        }
        if (path.StartsWith("/users/", StringComparison.Ordinal) && path.EndsWith("/photo", StringComparison.Ordinal) && ctx.Request.Method == "POST")
        {
            // A new Exchange photo for a user (an HR import between two runs): ?seed=N[&variant=1].
            var user = State.FindByKey(path["/users/".Length..^"/photo".Length]);
            if (user is null) { ctx.Response.StatusCode = 404; return; }
            user.SetPhoto(new PhotoSpec { Seed = int.Parse(ctx.Request.Query["seed"].ToString()), Variant = int.TryParse(ctx.Request.Query["variant"], out var v) ? v : 0 });
            await WriteJsonAsync(ctx, 200, new { user.PhotoETag }, "application/json");
            return;
        }
        if (path.StartsWith("/users/", StringComparison.Ordinal) && ctx.Request.Method == "DELETE")
        {
            // A user deleted in the middle of a run.
            ctx.Response.StatusCode = State.RemoveUser(Uri.UnescapeDataString(path["/users/".Length..])) ? 204 : 404;
            return;
        }
        if (path == "/samples/photo" && ctx.Request.Method == "GET")
        {
            // Photo files for import tests: ?seed=N&format=jpeg|png|exif6&side=N.
            var q = ctx.Request.Query;
            var sample = PhotoFactory.Sample(int.Parse(q["seed"].FirstOrDefault() ?? "1"), q["format"].FirstOrDefault() ?? "jpeg", int.Parse(q["side"].FirstOrDefault() ?? "400"));
            ctx.Response.ContentType = "application/octet-stream";
            await ctx.Response.Body.WriteAsync(sample);
            return;
        }
        if (path == "/faults" && ctx.Request.Method == "POST")
        {
            // Switches injected failures on or off mid-run: ?rate=0.05[&seed=N].
            var plan = Scenario.Faults ?? new FaultPlan();
            if (double.TryParse(ctx.Request.Query["rate"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate)) plan.Rate = rate;
            if (int.TryParse(ctx.Request.Query["seed"], out var seed)) plan.Seed = seed;
            Scenario.Faults = plan;
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/tokens/reject" && ctx.Request.Method == "POST")
        {
            // A token revoked mid-run: ?service=sharepoint|graph[&after=N]: after N more requests the service answers 401 to
            // every token it would have accepted (the scenario's and the identity endpoint's), as a revoked token meets.
            var service = ctx.Request.Query["service"].ToString();
            var after = int.TryParse(ctx.Request.Query["after"], out var n) ? n : 0;
            if (service == "sharepoint") _rejectSharePoint.Arm(after);
            else if (service == "graph") _rejectGraph.Arm(after);
            else { ctx.Response.StatusCode = 400; return; }
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/tokens/accept" && ctx.Request.Method == "POST")
        {
            // Tokens are good again (both services).
            _rejectSharePoint.Disarm();
            _rejectGraph.Disarm();
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path.StartsWith("/users/", StringComparison.Ordinal) && path.EndsWith("/pull", StringComparison.Ordinal) && ctx.Request.Method == "POST")
        {
            // SharePoint's own pull of one user's Exchange photo (as when the user opens their own profile).
            var upn = Uri.UnescapeDataString(path["/users/".Length..^"/pull".Length]);
            var user = State.FindByKey(upn);
            ctx.Response.StatusCode = user is null ? 404 : State.SharePointPull(user) ? 204 : 409;
            return;
        }
        if (path == "/rights" && ctx.Request.Method == "POST")
        {
            // ?profileWrite=allowed|403|500[&after=N][&upload=allowed|refused]: the sign-in's profile-write right, withdrawn after N more writes.
            // ?graphPhoto=allowed|refused: Graph's photo endpoints answer 403 ErrorAccessDenied to every token (no ProfilePhoto.Read.All).
            var shape = ctx.Request.Query["profileWrite"].ToString();
            var graphPhoto = ctx.Request.Query["graphPhoto"].ToString();
            if (graphPhoto.Length > 0 && graphPhoto is not ("allowed" or "refused")) { ctx.Response.StatusCode = 400; return; }
            if (graphPhoto.Length > 0) Scenario.GraphPhotoAllowed = graphPhoto == "allowed";
            if (shape.Length == 0 && graphPhoto.Length > 0) { ctx.Response.StatusCode = 204; return; }
            if (shape is not ("allowed" or "403" or "500")) { ctx.Response.StatusCode = 400; return; }
            var upload = ctx.Request.Query["upload"].ToString();
            SetRights(shape, int.TryParse(ctx.Request.Query["after"], out var n) ? n : 0, upload.Length == 0 ? null : upload == "allowed");
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/search/refresh" && ctx.Request.Method == "POST")
        {
            // The search crawl catches up: People search answers from the profiles as they are now.
            State.RefreshSearchIndex();
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/search" && ctx.Request.Method == "POST")
        {
            // ?mode=allowed|refused|empty: how People search answers from now on (Scenario.PeopleSearch).
            if (!TrySetPeopleSearch(ctx.Request.Query["mode"].ToString())) { ctx.Response.StatusCode = 400; return; }
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/limits" && ctx.Request.Method == "POST")
        {
            // Switches latency and the SharePoint budget (e.g. off to prepare a tenant quickly, on to measure), and starts a fresh budget minute.
            if (int.TryParse(ctx.Request.Query["latencyMs"], out var latency)) Scenario.LatencyMs = latency;
            if (int.TryParse(ctx.Request.Query["sharePointRequestsPerMinute"], out var budget)) Scenario.SharePointRequestsPerMinute = budget;
            if (int.TryParse(ctx.Request.Query["folderItemThreshold"], out var threshold)) Scenario.FolderItemThreshold = threshold;
            if (bool.TryParse(ctx.Request.Query["thresholdOnAddUsingPath"], out var onPath)) Scenario.ThresholdOnAddUsingPath = onPath;
            // The three ceilings (0 switches one off; windows in seconds): appUnits, appWindowSeconds, appUnitsCountGraph,
            // peopleManagerCalls, peopleManagerWindowSeconds, userRequests, userWindowSeconds, retryAfterScale; and licences, subscribedSkusForbidden.
            double? Number(string key) => double.TryParse(ctx.Request.Query[key], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
            if (Number("appUnits") is { } appUnits) Scenario.AppResourceUnitsPerWindow = appUnits;
            if (Number("appWindowSeconds") is { } appWindow) Scenario.AppWindowSeconds = appWindow;
            if (bool.TryParse(ctx.Request.Query["appUnitsCountGraph"], out var countGraph)) Scenario.AppUnitsCountGraph = countGraph;
            if (Number("peopleManagerCalls") is { } pmCalls) Scenario.PeopleManagerCallsPerWindow = pmCalls;
            if (Number("peopleManagerWindowSeconds") is { } pmWindow) Scenario.PeopleManagerWindowSeconds = pmWindow;
            if (Number("userRequests") is { } userRequests) Scenario.UserRequestsPerWindow = userRequests;
            if (Number("userWindowSeconds") is { } userWindow) Scenario.UserWindowSeconds = userWindow;
            if (Number("retryAfterScale") is { } scale) Scenario.RetryAfterScale = scale;
            if (Number("licences") is { } licences) Scenario.Licences = (int)licences;
            if (bool.TryParse(ctx.Request.Query["subscribedSkusForbidden"], out var forbidden)) Scenario.SubscribedSkusForbidden = forbidden;
            ResetLimits();
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/warm" && ctx.Request.Method == "POST")
        {
            // Draws every lazily seeded photo and thumbnail now, so a measured run does not pay for the emulator's own drawing.
            var users = State.Users.ToList();
            Parallel.ForEach(users, u => _ = u.Photo);
            Parallel.ForEach(State.FilePaths(), f => _ = State.ReadFile(f));
            ctx.Response.StatusCode = 204;
            return;
        }
        if (path == "/stats" && ctx.Request.Method == "GET")
        {
            var log = State.RequestLog;
            await WriteJsonAsync(ctx, 200, new
            {
                PeakMailboxConcurrency,
                Requests = log.Count,
                GraphRequests = log.Count(e => e.Service == "graph"),
                SharePointRequests = log.Count(e => e.Service is "mysite" or "admin"),
                GraphBatchItems = log.Count(e => e.Service == "graph-batch-item"),
                Bytes = log.Where(e => e.Service != "graph-batch-item").Sum(e => e.Bytes),
                Throttled = log.Count(e => e.Status is 429 or 503),
                SharePointRequestsPerMinute = Scenario.SharePointRequestsPerMinute,
                AppUnitsThrottled = CeilingHits(CeilingKind.AppResourceUnits),
                PeopleManagerThrottled = CeilingHits(CeilingKind.PeopleManagerCalls),
                UserThrottled = CeilingHits(CeilingKind.UserRequests),
                PeopleManagerCalls = log.Count(e => e.Service is "mysite" or "admin" && e.Target.Contains("SP.UserProfiles.PeopleManager", StringComparison.OrdinalIgnoreCase)),
                Scenario.LatencyMs,
            }, "application/json");
            return;
        }
        ctx.Response.StatusCode = 404;
    }

    private static string RandomToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
}
