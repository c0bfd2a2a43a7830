namespace ProfileSync.TenantEmulator;

/// <summary>The control port: what tests use to read and change the tenant (request log, users, files, rights, tokens, limits, search, faults); it needs no token.</summary>
public sealed partial class Emulator
{
    private void MapControlRoutes(IEndpointRouteBuilder control)
    {
        control.MapGet("/log", LogAsync);
        control.MapPost("/log/clear", ctx =>
        {
            State.ClearLog();
            return NoContent(ctx);
        });
        control.MapGet("/files", ctx => WriteJsonAsync(ctx, 200, State.Files().Select(f => new { f.Path, f.Length }), "application/json"));
        control.MapGet("/users", ctx => WriteJsonAsync(ctx, 200, State.Users.Select(u => u.Upn).OrderBy(u => u, StringComparer.Ordinal), "application/json"));
        control.MapGet("/users/{key}", UserAsync);
        control.MapPost("/users/{key}/photo", NewExchangePhotoAsync);
        // A user deleted in the middle of a run.
        control.MapDelete("/users/{key}", ctx => Status(ctx, State.RemoveUser(Uri.UnescapeDataString(ControlKey(ctx))) ? 204 : 404));
        control.MapPost("/users/{key}/pull", ctx =>
        {
            // SharePoint's own pull of one user's Exchange photo (as when the user opens their own profile).
            var user = State.FindByKey(Uri.UnescapeDataString(ControlKey(ctx)));
            return Status(ctx, user is null ? 404 : State.SharePointPull(user) ? 204 : 409);
        });
        control.MapGet("/samples/photo", SamplePhotoAsync);
        control.MapPost("/faults", FaultsAsync);
        control.MapPost("/tokens/reject", RejectTokensAsync);
        control.MapPost("/tokens/accept", ctx =>
        {
            // Tokens are good again (both services).
            AcceptTokens();
            return NoContent(ctx);
        });
        control.MapPost("/rights", RightsAsync);
        control.MapPost("/search/refresh", ctx =>
        {
            // The search crawl catches up: People search answers from the profiles as they are now.
            State.RefreshSearchIndex();
            return NoContent(ctx);
        });
        control.MapPost("/search", ctx =>
        {
            // ?mode=allowed|refused|empty: how People search answers from now on (Scenario.PeopleSearch).
            return TrySetPeopleSearch(ctx.Request.Query["mode"].ToString()) ? NoContent(ctx) : BadRequest(ctx);
        });
        control.MapPost("/limits", LimitsAsync);
        control.MapPost("/warm", ctx =>
        {
            // Draws every lazily seeded photo and thumbnail now, so a measured run does not pay for the emulator's own drawing.
            var users = State.Users.ToList();
            Parallel.ForEach(users, u => _ = u.Photo);
            Parallel.ForEach(State.FilePaths(), f => _ = State.ReadFile(f));
            return NoContent(ctx);
        });
        control.MapGet("/stats", StatsAsync);
        // Anything else, a known path with another method too (where routing alone would answer 405).
        control.Map("/{**path}", ctx => Status(ctx, 404));
    }

    private static Task NoContent(HttpContext ctx) => Status(ctx, 204);
    private static Task BadRequest(HttpContext ctx) => Status(ctx, 400);

    private static Task Status(HttpContext ctx, int status)
    {
        ctx.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private static string ControlKey(HttpContext ctx) => (string)ctx.Request.RouteValues["key"]!;

    private Task LogAsync(HttpContext ctx) =>
        WriteJsonAsync(ctx, 200, State.RequestLog.Select(e => new
        {
            e.Sequence, e.Service, e.Method, e.Target, e.Status, e.Authorized, e.CarriedOtherServiceToken, e.UserAgent, e.IsWrite,
            // Unix milliseconds (no date parsing on the test's side): when the request arrived, and when its answer was done.
            ReceivedAtMs = (e.ReceivedAt ?? e.At).ToUnixTimeMilliseconds(), AtMs = e.At.ToUnixTimeMilliseconds(),
        }), "application/json");

    private async Task UserAsync(HttpContext ctx)
    {
        var user = State.FindByKey(ControlKey(ctx));
        if (user is null) { ctx.Response.StatusCode = 404; return; }
        Dictionary<string, string>? profile = null;
        if (user.Profile is not null) lock (user.Profile) profile = new Dictionary<string, string>(user.Profile);
        await WriteJsonAsync(ctx, 200, new { user.Upn, user.Id, user.PhotoETag, user.HasPhoto, Profile = profile, PropertyWrites = user.PropertyWrites.ToArray(), PhotoWrites = user.PhotoWrites.ToArray() }, "application/json");
    }

    /// <summary>A new Exchange photo for a user (an HR import between two runs): ?seed=N[&amp;variant=1].</summary>
    private async Task NewExchangePhotoAsync(HttpContext ctx)
    {
        var user = State.FindByKey(ControlKey(ctx));
        if (user is null) { ctx.Response.StatusCode = 404; return; }
        user.SetPhoto(new PhotoSpec { Seed = int.Parse(ctx.Request.Query["seed"].ToString()), Variant = int.TryParse(ctx.Request.Query["variant"], out var v) ? v : 0 });
        await WriteJsonAsync(ctx, 200, new { user.PhotoETag }, "application/json");
    }

    /// <summary>Photo files for import tests: ?seed=N&amp;format=jpeg|png|exif6&amp;side=N.</summary>
    private static async Task SamplePhotoAsync(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var sample = PhotoFactory.Sample(int.Parse(q["seed"].FirstOrDefault() ?? "1"), q["format"].FirstOrDefault() ?? "jpeg", int.Parse(q["side"].FirstOrDefault() ?? "400"));
        ctx.Response.ContentType = "application/octet-stream";
        await ctx.Response.Body.WriteAsync(sample);
    }

    /// <summary>Switches injected failures on or off mid-run: ?rate=0.05[&amp;seed=N].</summary>
    private Task FaultsAsync(HttpContext ctx)
    {
        var plan = Scenario.Faults ?? new FaultPlan();
        if (double.TryParse(ctx.Request.Query["rate"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate)) plan.Rate = rate;
        if (int.TryParse(ctx.Request.Query["seed"], out var seed)) plan.Seed = seed;
        Scenario.Faults = plan;
        return NoContent(ctx);
    }

    /// <summary>
    /// A token revoked mid-run: ?service=sharepoint|graph[&amp;after=N]: after N more requests the service answers 401 to
    /// every token it would have accepted (the scenario's and the identity endpoint's), as a revoked token meets.
    /// </summary>
    private Task RejectTokensAsync(HttpContext ctx)
    {
        var service = ctx.Request.Query["service"].ToString();
        if (service is not ("sharepoint" or "graph")) return BadRequest(ctx);
        RejectTokens(service, int.TryParse(ctx.Request.Query["after"], out var n) ? n : 0);
        return NoContent(ctx);
    }

    /// <summary>
    /// ?profileWrite=allowed|403|500[&amp;after=N][&amp;upload=allowed|refused]: the sign-in's profile-write right, withdrawn after N more writes.
    /// ?graphPhoto=allowed|refused: Graph's photo endpoints answer 403 ErrorAccessDenied to every token (no ProfilePhoto.Read.All).
    /// </summary>
    private Task RightsAsync(HttpContext ctx)
    {
        var shape = ctx.Request.Query["profileWrite"].ToString();
        var graphPhoto = ctx.Request.Query["graphPhoto"].ToString();
        if (graphPhoto.Length > 0 && graphPhoto is not ("allowed" or "refused")) return BadRequest(ctx);
        if (graphPhoto.Length > 0) Scenario.GraphPhotoAllowed = graphPhoto == "allowed";
        if (shape.Length == 0 && graphPhoto.Length > 0) return NoContent(ctx);
        if (shape is not ("allowed" or "403" or "500")) return BadRequest(ctx);
        var upload = ctx.Request.Query["upload"].ToString();
        SetRights(shape, int.TryParse(ctx.Request.Query["after"], out var n) ? n : 0, upload.Length == 0 ? null : upload == "allowed");
        return NoContent(ctx);
    }

    /// <summary>
    /// Switches latency and the SharePoint budget (e.g. off to prepare a tenant quickly, on to measure), and starts a fresh budget minute.
    /// The three ceilings (0 switches one off; windows in seconds): appUnits, appWindowSeconds, appUnitsCountGraph,
    /// peopleManagerCalls, peopleManagerWindowSeconds, userRequests, userWindowSeconds, retryAfterScale; and licences, subscribedSkusForbidden.
    /// </summary>
    private Task LimitsAsync(HttpContext ctx)
    {
        if (int.TryParse(ctx.Request.Query["latencyMs"], out var latency)) Scenario.LatencyMs = latency;
        if (int.TryParse(ctx.Request.Query["sharePointRequestsPerMinute"], out var budget)) Scenario.SharePointRequestsPerMinute = budget;
        if (int.TryParse(ctx.Request.Query["folderItemThreshold"], out var threshold)) Scenario.FolderItemThreshold = threshold;
        if (bool.TryParse(ctx.Request.Query["thresholdOnAddUsingPath"], out var onPath)) Scenario.ThresholdOnAddUsingPath = onPath;
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
        return NoContent(ctx);
    }

    private Task StatsAsync(HttpContext ctx)
    {
        var log = State.RequestLog;
        return WriteJsonAsync(ctx, 200, new
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
    }
}
