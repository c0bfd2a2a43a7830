namespace ProfileSync.TenantEmulator;

/// <summary>Microsoft Graph as ProfileSync meets it: users, photos (read, write, delete), $batch, /subscribedSkus, and Graph's error answers.</summary>
public sealed partial class Emulator
{
    /// <summary>Routes a $batch item through the Graph host's own endpoints; see <see cref="ServeGraph"/>.</summary>
    private RequestDelegate _routeBatchItem = null!;

    private void ServeGraph(WebApplication graph)
    {
        graph.Use(GraphGateAsync);
        MapGraphRoutes(graph);
        // $batch items take the same route table and matcher as top-level requests, through a second
        // routing pipeline over this host's endpoints. It leaves out the gate: the token, faults and log
        // belong to the $batch request, and BatchAsync spends each item's cost and logs it.
        var batchItems = new ApplicationBuilder(graph.Services);
        batchItems.UseRouting();
        batchItems.UseEndpoints(items => { foreach (var endpoints in ((IEndpointRouteBuilder)graph).DataSources) items.DataSources.Add(endpoints); });
        _routeBatchItem = batchItems.Build();
    }

    private void MapGraphRoutes(IEndpointRouteBuilder graph)
    {
        var v1 = graph.MapGroup("/v1.0");
        v1.MapPost("/$batch", BatchAsync);
        v1.MapGet("/subscribedSkus", SubscribedSkusAsync);
        v1.MapGet("/users", ListUsersAsync);
        v1.MapGet("/users/{key}", ReadUserAsync);
        var user = v1.MapGroup("/users/{key}");
        user.MapGet("/photo", ctx => InMailboxAsync(ctx, PhotoMetadataAsync));
        user.MapGet("/photo/$value", ctx => InMailboxAsync(ctx, PhotoValueAsync));
        user.MapGet("/photos/{size}/$value", ctx => InMailboxAsync(ctx, SizedPhotoAsync));
        user.MapMethods("/photo/$value", ["PUT", "PATCH", "DELETE"], ctx => InMailboxAsync(ctx, WritePhotoAsync));
        // Catch-alls for any method, so a known path asked with another method gets Graph's answer, not routing's 405.
        user.Map("/{segment}/{**rest}", UnsupportedUserRequestAsync);
        graph.Map("/{**path}", UnknownSegmentAsync);
    }

    /// <summary>What every request meets before its route: the token, the ceilings' accounting, injected faults; then the log.</summary>
    private async Task GraphGateAsync(HttpContext ctx, RequestDelegate route)
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
            await route(ctx);
        }
        finally
        {
            State.Log("graph", ctx.Request.Method, target, ctx.Response.StatusCode, ok, other, ctx.Request.Headers.UserAgent.ToString(), counted.Total(ctx), received);
        }
    }

    /// <summary>No route: Graph names the segment after the version it does not know.</summary>
    private static Task UnknownSegmentAsync(HttpContext ctx)
    {
        var segments = ctx.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return GraphErrorAsync(ctx, 400, "BadRequest", $"Resource not found for the segment '{(segments.Length > 1 ? segments[1] : "")}'.");
    }

    /// <summary>Any other request below a user: refused only once the caller may read photos and the user exists.</summary>
    private async Task UnsupportedUserRequestAsync(HttpContext ctx)
    {
        if (await PhotoOwnerAsync(ctx) is null) return;
        await GraphErrorAsync(ctx, 400, "BadRequest", "Unsupported request.");
    }

    /// <summary>The {key} route value: an id or UPN, bare or as a key literal ('upn') with its quotes doubled.</summary>
    private static string UserKey(HttpContext ctx)
    {
        var key = (string)ctx.Request.RouteValues["key"]!;
        return key.StartsWith("('", StringComparison.Ordinal) && key.EndsWith("')", StringComparison.Ordinal) ? key[2..^2].Replace("''", "'") : key;
    }

    /// <summary>The user a photo request is about, once the caller may read photos and the user is in Graph; null once an error is answered.</summary>
    private async Task<EmulatedUser?> PhotoOwnerAsync(HttpContext ctx)
    {
        if (!Rights(ctx).CanReadPhotos || !Scenario.GraphPhotoAllowed)
        {
            await GraphErrorAsync(ctx, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
            return null;
        }
        var key = UserKey(ctx);
        var user = State.FindByKey(key);
        if (user is null || !user.InGraph)
        {
            if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
            await GraphErrorAsync(ctx, 404, "Request_ResourceNotFound", $"Resource '{key}' does not exist or one of its queried reference-property objects are not present.");
            return null;
        }
        return user;
    }

    /// <summary>A photo read or write: answered inside the mailbox's concurrency limit, which is also where the service's time is spent.</summary>
    private async Task InMailboxAsync(HttpContext ctx, Func<HttpContext, EmulatedUser, Task> answer)
    {
        var user = await PhotoOwnerAsync(ctx);
        if (user is null) return;
        if (!_mailboxes.TryEnter(user.Id, Scenario.GraphMailboxConcurrency))
        {
            ctx.Response.Headers.RetryAfter = Scenario.GraphRetryAfterSeconds.ToString();
            await GraphErrorAsync(ctx, 429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.");
            return;
        }
        try
        {
            if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
            await answer(ctx, user);
        }
        finally
        {
            _mailboxes.Exit(user.Id);
        }
    }

    /// <summary>GET users/{key}/photo: the photo's metadata.</summary>
    private Task PhotoMetadataAsync(HttpContext ctx, EmulatedUser user) => user.HasPhoto
        ? WriteJsonAsync(ctx, 200, new Dictionary<string, object?>
        {
            ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#users('{user.Id}')/photo/$entity",
            ["@odata.mediaContentType"] = user.PhotoContentType,
            ["@odata.mediaEtag"] = user.PhotoETag,
            ["id"] = $"{user.PhotoWidth}x{user.PhotoHeight}",
            ["height"] = user.PhotoHeight,
            ["width"] = user.PhotoWidth,
        })
        : NoPhotoAsync(ctx, user, content: false);

    /// <summary>GET users/{key}/photo/$value: the photo as stored.</summary>
    private async Task PhotoValueAsync(HttpContext ctx, EmulatedUser user)
    {
        if (!user.HasPhoto)
        {
            await NoPhotoAsync(ctx, user, content: true);
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = user.PhotoContentType;
        ctx.Response.Headers.ETag = user.PhotoETag;
        await ctx.Response.Body.WriteAsync(user.Photo!);
    }

    /// <summary>GET users/{key}/photos/{size}/$value: one of the sizes Exchange keeps, a square JPEG of that side; none larger than the photo itself.</summary>
    private async Task SizedPhotoAsync(HttpContext ctx, EmulatedUser user)
    {
        if (!user.HasPhoto)
        {
            await NoPhotoAsync(ctx, user, content: true);
            return;
        }
        var size = (string)ctx.Request.RouteValues["size"]!;
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
    }

    /// <summary>A user without a photo: the scenario's answer for the metadata (one of the documented ones, or a 1x1 GIF), always ImageNotFound for the content.</summary>
    private Task NoPhotoAsync(HttpContext ctx, EmulatedUser user, bool content)
    {
        if (!content && user.NoPhotoAnswer == "gif1x1")
        {
            return WriteJsonAsync(ctx, 200, new Dictionary<string, object?>
            {
                ["@odata.context"] = $"{GraphUrl}v1.0/$metadata#users('{user.Id}')/photo/$entity",
                ["@odata.mediaContentType"] = "image/gif",
                ["@odata.mediaEtag"] = "",
                ["id"] = "1x1",
                ["height"] = 1,
                ["width"] = 1,
            });
        }
        var code = content ? "ImageNotFound" : user.NoPhotoAnswer ?? "ImageNotFound";
        return GraphErrorAsync(ctx, 404, code, code == "ImageNotFound"
            ? "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."
            : "The photo wasn't found.");
    }

    /// <summary>GET /users/{id|upn}: one user (User.Read.All), the properties Graph selects by default that ProfileSync reads.</summary>
    private async Task ReadUserAsync(HttpContext ctx)
    {
        if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
        if (!Rights(ctx).CanListUsers)
        {
            await GraphErrorAsync(ctx, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            return;
        }
        var key = UserKey(ctx);
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
    /// GET /users with $select, $top (at most 999), $count and a $filter of eq/ne clauses on accountEnabled,
    /// userType and mail (<see cref="GraphUserFilter"/>: ne only with ConsistencyLevel: eventual and
    /// $count=true, as Graph). Pages via @odata.nextLink.
    /// </summary>
    private async Task ListUsersAsync(HttpContext ctx)
    {
        if (!Rights(ctx).CanListUsers)
        {
            await GraphErrorAsync(ctx, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            return;
        }
        if (Scenario.LatencyMs > 0) await Task.Delay(Scenario.LatencyMs);
        var query = ctx.Request.Query;
        var filter = query["$filter"].ToString();
        var eventual = ctx.Request.Headers["ConsistencyLevel"].ToString().Equals("eventual", StringComparison.OrdinalIgnoreCase);
        var count = query["$count"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        var (matching, refused) = filter.Length > 0 ? GraphUserFilter.Parse(filter, advanced: eventual && count) : (null, null);
        if (refused is not null)
        {
            await GraphErrorAsync(ctx, 400, "Request_UnsupportedQuery", refused);
            return;
        }
        var top = int.TryParse(query["$top"], out var t) ? t : 100;
        if (top is < 1 or > 999)
        {
            await GraphErrorAsync(ctx, 400, "Request_UnsupportedQuery", "Invalid page size specified: '" + top + "'. Must be between 1 and 999 inclusive.");
            return;
        }
        var skip = int.TryParse(query["$skiptoken"], out var k) ? k : 0;
        var all = State.DirectoryOrder().Where(u => matching?.Matches(u) ?? true).ToList();
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

    /// <summary>Graph JSON batching: at most 20 requests; Graph hands at most 4 of them to the service at a time.</summary>
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
                await _routeBatchItem(inner);
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

    /// <summary>
    /// Graph photo writes (facts doc, section 4): PUT .../photo/$value with an image/jpeg or image/png
    /// body up to 4 MB, ProfilePhoto.ReadWrite.All; the photo is then what the reads return, under a new
    /// etag. DELETE .../photo/$value removes it (204; no photo: 404 ImageNotFound). Answered inside the
    /// mailbox's concurrency limit, as reads are.
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
}
