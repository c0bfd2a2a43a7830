namespace ProfileSync.TenantEmulator;

/// <summary>SharePoint Online as ProfileSync meets it: the My Site host and the admin site, profiles (PeopleManager), the photo library, SharePoint's answer shapes and errors.</summary>
public sealed partial class Emulator
{
    private void ServeSharePoint(WebApplication site, bool admin)
    {
        site.Use((ctx, route) => SharePointGateAsync(ctx, route, admin));
        ODataUrl.UseRouting(site);
        MapSharePointRoutes(site, admin);
    }

    private void MapSharePointRoutes(IEndpointRouteBuilder site, bool admin)
    {
        var peopleManager = site.MapGroup("/_api/SP.UserProfiles.PeopleManager");
        peopleManager.MapGet("/GetPropertiesFor({arguments})", ctx => GetPropertiesForAsync(ctx, ODataUrl.Argument(ctx, "arguments", "accountName")));
        peopleManager.MapPost("/SetSingleValueProfileProperty", ctx => SetSingleValueAsync(ctx, admin));
        site.MapGet("/_api/web", ctx => WebAsync(ctx, admin));
        site.MapGet("/_api/search/query", PeopleSearchAsync);
        if (!admin)
        {
            // The User Photos library is on the My Site host; the admin site has none.
            var web = site.MapGroup("/_api/web");
            web.MapGet("/GetFolderByServerRelativePath({folder})/Folders", ctx => FoldersAsync(ctx, ODataUrl.Argument(ctx, "folder", "decodedurl")));
            web.MapPost("/GetFolderByServerRelativePath({folder})/Files/AddUsingPath({file})", UploadAsync);
            web.MapGet("/GetList({list})/items", ctx => ListItemsAsync(ctx, ODataUrl.Argument(ctx, "list")));
            web.MapPost("/GetFileByServerRelativePath({file})/recycle()", RecycleFileAsync);
            web.MapGet("/GetFileByServerRelativePath({file})/$value", ReadFileAsync);
        }
        // Any other path or method (a catch-all, so routing answers no 405 of its own).
        site.Map("/{**path}", ctx => SharePointErrorAsync(ctx, 404, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", $"The expression \"{ctx.Request.Path.Value}\" is not valid."));
    }

    /// <summary>
    /// What every request meets before its route: the budget and its RateLimit headers, the token, the
    /// three ceilings, the admin site's right, injected faults; then the log.
    /// </summary>
    private async Task SharePointGateAsync(HttpContext ctx, RequestDelegate route, bool admin)
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
            await route(ctx);
        }
        finally
        {
            State.Log(admin ? "admin" : "mysite", ctx.Request.Method, target, ctx.Response.StatusCode, ok, other, ctx.Request.Headers.UserAgent.ToString(), counted.Total(ctx), received);
        }
    }

    private Task WebAsync(HttpContext ctx, bool admin)
    {
        var web = new JsonObject { ["Title"] = admin ? "SharePoint admin center" : "My Site host", ["Url"] = admin ? AdminUrl.ToString().TrimEnd('/') : State.MySiteOrigin };
        return WriteSharePointAsync(ctx, web, Verbose(ctx), "SP.Web");
    }

    /// <summary>POST GetFolderByServerRelativePath(folder)/Files/AddUsingPath(decodedurl=name[,overwrite=true]).</summary>
    private async Task UploadAsync(HttpContext ctx)
    {
        if (!Scenario.UploadAllowed)
        {
            await SharePointErrorAsync(ctx, 403, "-2147024891, System.UnauthorizedAccessException",
                "Access denied. You do not have permission to perform this action or access this resource.");
            return;
        }
        var folder = ODataUrl.Argument(ctx, "folder", "decodedurl");
        if (Scenario.FolderItemThreshold > 0 && Scenario.ThresholdOnAddUsingPath && folder is not null && State.CountFilesIn(folder) >= Scenario.FolderItemThreshold)
        {
            await SharePointErrorAsync(ctx, 500, "-2147024860, Microsoft.SharePoint.SPQueryThrottledException",
                "The attempted operation is prohibited because it exceeds the list view threshold.");
            return;
        }
        var overwrite = ((string)ctx.Request.RouteValues["file"]!).Contains("overwrite=true", StringComparison.OrdinalIgnoreCase);
        await AddFileAsync(ctx, folder, ODataUrl.Argument(ctx, "file", "decodedurl"), overwrite);
    }

    private async Task RecycleFileAsync(HttpContext ctx)
    {
        var file = ODataUrl.Argument(ctx, "file", "decodedurl");
        if (file is null || !State.DeleteFile(file))
        {
            await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "File Not Found.");
            return;
        }
        var recycled = new JsonObject { ["value"] = Guid.NewGuid().ToString() };
        await WriteJsonAsync(ctx, 200, (Verbose(ctx) ? new JsonObject { ["d"] = new JsonObject { ["Recycle"] = Guid.NewGuid().ToString() } } : recycled).ToJsonString(), "application/json;odata=nometadata;charset=utf-8");
    }

    private async Task ReadFileAsync(HttpContext ctx)
    {
        var file = ODataUrl.Argument(ctx, "file", "decodedurl");
        var bytes = file is null ? null : State.ReadFile(file);
        if (bytes is null)
        {
            await SharePointErrorAsync(ctx, 404, "-2147024894, System.IO.FileNotFoundException", "File Not Found.");
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/octet-stream";
        await ctx.Response.Body.WriteAsync(bytes);
    }

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
        var select = ctx.Request.Query["$select"].ToString();
        var selectsModified = select.Split(',').Any(f => f.Trim().Equals("Modified", StringComparison.OrdinalIgnoreCase));
        var items = new JsonArray(page.Select(e =>
        {
            var item = new JsonObject { ["FileRef"] = e.Path, ["FSObjType"] = e.Folder ? 1 : 0, ["Id"] = e.Id };
            // Modified only when asked for ($select), in UTC whole seconds as SharePoint gives it (folders: 1970, never compared).
            if (selectsModified) item["Modified"] = (State.ModifiedOf(e.Path) ?? DateTimeOffset.UnixEpoch).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            if (verbose) item.Insert(0, "__metadata", new JsonObject { ["type"] = "SP.Data.UserPhotosItem" });
            return (JsonNode)item;
        }).ToArray());
        string? next = null;
        if (page.Count == top && page[^1].Id < entries.Count)
            next = $"{State.MySiteOrigin}/_api/web/GetList(@a1)/items?@a1={Uri.EscapeDataString("'" + TenantState.LibraryUrl + "'")}&$select={Uri.EscapeDataString(select.Length > 0 ? select : "FileRef,FSObjType")}&$top={top}&$skiptoken={Uri.EscapeDataString("Paged=TRUE&p_ID=" + page[^1].Id)}";
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
}
