namespace ProfileSync.TenantEmulator;

/// <summary>Microsoft Graph as ProfileSync meets it: users, photos (read, write, delete), $batch, /subscribedSkus, and Graph's error answers.</summary>
public sealed partial class Emulator
{
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
    /// GET /users with $select, $top (at most 999), $count and a $filter of eq/ne clauses on accountEnabled,
    /// userType and mail (<see cref="GraphUserFilter"/>: ne only with ConsistencyLevel: eventual and
    /// $count=true, as Graph). Pages via @odata.nextLink.
    /// </summary>
    private async Task ListUsersAsync(HttpContext ctx)
    {
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
}
