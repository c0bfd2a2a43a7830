namespace ProfileSync.TenantEmulator;

/// <summary>
/// Emulates, on loopback, the Microsoft Graph and SharePoint Online endpoints ProfileSync uses, as
/// the services document them: answer shapes, error codes, per-service bearer tokens and
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
        emulator.GraphUrl = await emulator.StartHostAsync("graph", emulator.ServeGraph);
        emulator.MySiteUrl = await emulator.StartHostAsync("mysite", host => emulator.ServeSharePoint(host, admin: false));
        emulator.AdminUrl = await emulator.StartHostAsync("admin", host => emulator.ServeSharePoint(host, admin: true));
        emulator.ControlUrl = await emulator.StartHostAsync("control", emulator.MapControlRoutes);
        var identityRoot = await emulator.StartHostAsync("identity", emulator.ServeIdentity);
        emulator.IdentityUrl = new Uri(identityRoot, "msi/token");
        emulator.State.BindMySiteOrigin(emulator.MySiteUrl.GetLeftPart(UriPartial.Authority));
        return emulator;
    }

    /// <summary>Starts one service host: <paramref name="serve"/> adds its middleware and maps its routes.</summary>
    private async Task<Uri> StartHostAsync(string name, Action<WebApplication> serve)
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
        serve(app);
        await app.StartAsync();
        _apps.Add(app);
        var address = app.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer)) is Microsoft.AspNetCore.Hosting.Server.IServer server
            ? server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First()
            : throw new InvalidOperationException("No server address for " + name);
        return new Uri(address.Replace("[::1]", "127.0.0.1").Replace("localhost", "127.0.0.1") + "/");
    }

    /// <summary>The managed identity endpoint, each request logged as "identity".</summary>
    private void ServeIdentity(WebApplication host)
    {
        host.Use(async (ctx, next) =>
        {
            await next(ctx);
            State.Log("identity", ctx.Request.Method, RawTarget(ctx), ctx.Response.StatusCode, true, false, ctx.Request.Headers.UserAgent.ToString());
        });
        Identity.MapRoutes(host);
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

    private static string RandomToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
}
