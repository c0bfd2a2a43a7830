namespace ProfileSync.TenantEmulator;

/// <summary>The control port: what tests use to read and change the tenant (request log, users, files, rights, tokens, limits, search, faults); it needs no token.</summary>
public sealed partial class Emulator
{
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
}
