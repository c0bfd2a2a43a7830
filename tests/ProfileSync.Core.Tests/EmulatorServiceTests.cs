using System.Net;
using System.Net.Http.Headers;
using System.Security;
using System.Text.Json.Nodes;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

/// <summary>The core against the tenant emulator, in-process: states, writes, reruns, shapes and limits.</summary>
public class EmulatorServiceTests
{
    internal static string DemoScenario => Path.Combine(AppContext.BaseDirectory, "scenarios", "demo.json");

    internal static ProfileSyncConnection Connect(Emulator emulator, string? photoFolder = null, HttpPipelineOptions? options = null) =>
        new(new ServiceEndpoints(emulator.Scenario.Tenant, emulator.GraphUrl, emulator.MySiteUrl, emulator.AdminUrl),
            new PreAcquiredTokenSource(Secure(emulator.GraphToken)), new PreAcquiredTokenSource(Secure(emulator.SharePointToken)), "AccessToken", photoFolder, options);

    internal static SecureString Secure(string s)
    {
        var secure = new SecureString();
        foreach (var c in s) secure.AppendChar(c);
        return secure;
    }

    private static readonly SyncOptions Options = new();

    public static TheoryData<string, PhotoState> DemoStates => new()
    {
        { "adele.vance@contoso.com", PhotoState.InSync },
        { "megan.bowen@contoso.com", PhotoState.InSync },
        { "o'neil@contoso.com", PhotoState.Different },
        { "jane_fabrikam.com#EXT#@contoso.onmicrosoft.com", PhotoState.Different },
        { "small.entra@contoso.com", PhotoState.Different },
        { "outside.tenant@contoso.com", PhotoState.Different },
        { "jürgen@contoso.com", PhotoState.MissingInSharePoint },
        { "placeholder.url@contoso.com", PhotoState.MissingInSharePoint },
        { "missing.file@contoso.com", PhotoState.MissingInSharePoint },
        { "portrait.png@contoso.com", PhotoState.MissingInSharePoint },
        { "no.photo1@contoso.com", PhotoState.NoSourcePhoto },
        { "no.photo2@contoso.com", PhotoState.NoSourcePhoto },
        { "no.photo3@contoso.com", PhotoState.NoSourcePhoto },
        { "no.photo4@contoso.com", PhotoState.NoSourcePhoto },
        { "no.photo5@contoso.com", PhotoState.NoSourcePhoto },
        { "no.profile@contoso.com", PhotoState.NotFound },
        { "left.company@contoso.com", PhotoState.NotFound },
        { "broken.photo@contoso.com", PhotoState.Error },
    };

    [Fact]
    public async Task Every_demo_user_gets_its_state_then_a_sync_brings_every_usable_photo_InSync_and_a_rerun_writes_nothing()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var connection = Connect(emulator);
        var expected = DemoStates.ToDictionary(r => (string)r[0], r => (PhotoState)r[1]);
        foreach (var (upn, state) in expected)
        {
            var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse(upn), Options, CancellationToken.None);
            Assert.True(state == check.State.State, $"{upn}: expected {state}, got {check.State.State} ({check.State.Reason})");
            if (state == PhotoState.NotFound) Assert.NotNull(check.State.ErrorId);
            if (state == PhotoState.Error) Assert.Equal(ErrorIds.PhotoUnreadable, check.State.ErrorId);
        }
        Assert.DoesNotContain(emulator.State.RequestLog, e => e.IsWrite);

        foreach (var upn in expected.Keys)
        {
            var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse(upn), Options, CancellationToken.None);
            var result = await connection.CreateRunServices().Photos.SyncAsync(check, Options, CancellationToken.None);
            var wanted = expected[upn] switch
            {
                PhotoState.Different or PhotoState.MissingInSharePoint => SyncAction.Updated,
                PhotoState.Error => SyncAction.Failed,
                _ => SyncAction.Skipped,
            };
            Assert.True(wanted == result.Action, $"{upn}: expected {wanted}, got {result.Action} ({result.Error})");
        }

        emulator.State.ClearLog();
        foreach (var (upn, state) in expected)
        {
            var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse(upn), Options, CancellationToken.None);
            var after = state is PhotoState.Different or PhotoState.MissingInSharePoint ? PhotoState.InSync : state;
            Assert.True(after == check.State.State, $"{upn} after sync: expected {after}, got {check.State.State} ({check.State.Reason})");
            if (state is PhotoState.Different or PhotoState.MissingInSharePoint) Assert.Equal(ComparisonMethod.Stamp, check.State.ComparedBy);
            var result = await connection.CreateRunServices().Photos.SyncAsync(check, Options, CancellationToken.None);
            Assert.NotEqual(SyncAction.Updated, result.Action);
        }
        Assert.DoesNotContain(emulator.State.RequestLog, e => e.IsWrite);
        // A user ProfileSync synced costs no Exchange photo download on the next check.
        Assert.DoesNotContain(emulator.State.RequestLog, e => e.Target.Contains("jürgen", StringComparison.Ordinal) && e.Target.EndsWith("$value", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_sync_uploads_all_thumbnails_before_touching_the_profile_recycles_what_it_replaced_and_leaves_the_exchange_sync_state_alone()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var connection = Connect(emulator);
        var user = UserRef.Parse("o'neil@contoso.com");
        var emulated = emulator.State.FindByKey(user.UserPrincipalName)!;
        var before = new Dictionary<string, string>(emulated.Profile!);
        emulator.State.ClearLog();

        var result = await connection.CreateRunServices().Photos.SyncAsync(await connection.CreateRunServices().Photos.CheckAsync(user, Options, CancellationToken.None), Options, CancellationToken.None);

        Assert.Equal(SyncAction.Updated, result.Action);
        var writes = emulator.State.RequestLog.Where(e => e.IsWrite).ToList();
        // The right is proven first with a harmless write (the timestamp set to the value it had), then
        // thumbnails, then the profile, then the replaced thumbnails go to the recycle bin.
        Assert.Contains("SetSingleValueProfileProperty", writes[0].Target);
        Assert.Equal("SPS-PictureTimestamp", emulated.PropertyWrites.First());
        writes = writes.Skip(1).ToList();
        Assert.All(writes.Take(3), w => Assert.Contains("AddUsingPath", w.Target));
        var profileWrites = writes.Skip(3).TakeWhile(w => w.Service == "admin").ToList();
        Assert.NotEmpty(profileWrites);
        var recycles = writes.Skip(3 + profileWrites.Count).ToList();
        Assert.Equal(3, recycles.Count);
        Assert.All(recycles, w => Assert.Contains("/recycle()", w.Target));

        var profile = emulated.Profile!;
        Assert.Equal(result.PictureUrl, profile["PictureURL"]);
        Assert.NotEqual(before["PictureURL"], profile["PictureURL"]);
        var now = Uri.UnescapeDataString(new Uri(profile["PictureURL"]).AbsolutePath);
        var old = Uri.UnescapeDataString(new Uri(before["PictureURL"]).AbsolutePath);
        foreach (var suffix in new[] { "_SThumb.jpg", "_MThumb.jpg", "_LThumb.jpg" })
        {
            Assert.NotNull(emulator.State.ReadFile(now.Replace("_MThumb.jpg", suffix)));
            Assert.Null(emulator.State.ReadFile(old.Replace("_MThumb.jpg", suffix)));
        }
        Assert.Matches($"/{emulated.Id}_[0-9a-f]{{12}}_MThumb\\.jpg$", now);
        Assert.Equal("0", profile["SPS-PicturePlaceholderState"]);
        Assert.True(long.Parse(profile["SPS-PictureTimestamp"]) > long.Parse(before["SPS-PictureTimestamp"]));
        Assert.Equal(before["SPS-PictureExchangeSyncState"], profile["SPS-PictureExchangeSyncState"]);
    }

    [Fact]
    public async Task The_photo_folder_is_discovered_in_the_tenant_language_not_assumed()
    {
        var scenario = Scenario.Parse("""{ "tenant": "contoso", "photoFolder": "Profilbilder", "users": [ { "upn": "jürgen@contoso.com", "photo": { "seed": 3 }, "sharePoint": "none" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = Connect(emulator);
        var user = UserRef.Parse("jürgen@contoso.com");
        var result = await connection.CreateRunServices().Photos.SyncAsync(await connection.CreateRunServices().Photos.CheckAsync(user, Options, CancellationToken.None), Options, CancellationToken.None);
        Assert.Equal(SyncAction.Updated, result.Action);
        var id = emulator.State.FindByKey(user.UserPrincipalName)!.Id;
        Assert.Matches($"/User%20Photos/Profilbilder/{id}_[0-9a-f]{{12}}_MThumb\\.jpg$", result.PictureUrl);
        Assert.Contains("Profilbilder", connection.Library.DiscoveryNote);
        Assert.Equal(PhotoState.InSync, (await connection.CreateRunServices().Photos.CheckAsync(user, Options, CancellationToken.None)).State.State);
    }

    [Fact]
    public async Task A_custom_thumbnail_size_is_written()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var connection = Connect(emulator);
        var options = new SyncOptions { Sizes = new Imaging.ThumbnailSizes(64, 96, 300) };
        var user = UserRef.Parse("jürgen@contoso.com");
        var result = await connection.CreateRunServices().Photos.SyncAsync(await connection.CreateRunServices().Photos.CheckAsync(user, options, CancellationToken.None), options, CancellationToken.None);
        var large = emulator.State.ReadFile(Uri.UnescapeDataString(new Uri(result.PictureUrl!).AbsolutePath).Replace("_MThumb", "_LThumb"))!;
        using var bitmap = SkiaSharp.SKBitmap.Decode(large);
        Assert.Equal(300, bitmap.Width);
    }

    [Fact]
    public async Task The_emulator_answers_profiles_in_both_shapes_and_the_reader_takes_both()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var http = new HttpClient();
        foreach (var accept in new[] { "application/json;odata=verbose", "application/json;odata=nometadata" })
        {
            var claims = UserRef.Parse("adele.vance@contoso.com").ClaimsAccountName;
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.MySiteUrl, $"/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v={UrlText.ODataAliasValue(claims)}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.SharePointToken);
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
            var body = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
            Assert.Equal(accept.Contains("verbose"), body.StartsWith("{\"d\":", StringComparison.Ordinal));
            var profile = SharePointWireFormat.ReadProfile(body)!;
            Assert.Equal(claims, profile.AccountName);
            Assert.Contains("adele_vance_contoso_com_MThumb.jpg", profile.PictureUrl);
        }
    }

    [Theory]
    [InlineData("odata-null")]
    [InlineData("empty-object")]
    public async Task Both_no_profile_answers_are_NotFound(string answer)
    {
        var scenario = Scenario.Parse($$"""{ "missingProfileAnswer": "{{answer}}", "users": [ { "upn": "np@contoso.com", "photo": { "seed": 1 }, "sharePoint": "no-profile" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = Connect(emulator);
        var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse("np@contoso.com"), Options, CancellationToken.None);
        Assert.Equal((PhotoState.NotFound, ErrorIds.SharePointProfileNotFound), (check.State.State, check.State.ErrorId));
    }

    [Fact]
    public async Task A_token_of_the_wrong_service_is_rejected_and_the_user_gets_an_AuthenticationFailed_error()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var connection = new ProfileSyncConnection(new ServiceEndpoints("contoso", emulator.GraphUrl, emulator.MySiteUrl, emulator.AdminUrl),
            new PreAcquiredTokenSource(Secure(emulator.SharePointToken)), new PreAcquiredTokenSource(Secure(emulator.SharePointToken)), "AccessToken");
        var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse("adele.vance@contoso.com"), Options, CancellationToken.None);
        Assert.Equal((PhotoState.Error, ErrorIds.AuthenticationFailed), (check.State.State, check.State.ErrorId));
        var entry = Assert.Single(emulator.State.RequestLog);
        Assert.True(entry.CarriedOtherServiceToken);
        Assert.Equal(401, entry.Status);
    }

    [Fact]
    public async Task Graph_answers_429_beyond_4_requests_per_mailbox_and_the_pipeline_retries_after_Retry_After()
    {
        var scenario = Scenario.Parse("""{ "latencyMs": 300, "graphRetryAfterSeconds": 1, "users": [ { "upn": "busy@contoso.com", "photo": { "seed": 1, "width": 96, "height": 96 }, "sharePoint": "none" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using (var raw = new HttpClient())
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            {
                var r = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.GraphUrl, "v1.0/users/busy@contoso.com/photo"));
                r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.GraphToken);
                return raw.SendAsync(r);
            }));
            var throttled = responses.Where(r => (int)r.StatusCode == 429).ToList();
            Assert.NotEmpty(throttled);
            Assert.All(throttled, r => Assert.Equal(TimeSpan.FromSeconds(1), r.Headers.RetryAfter?.Delta));
            Assert.Contains("MailboxConcurrency", await throttled[0].Content.ReadAsStringAsync());
        }

        var waits = new List<TimeSpan>();
        using var connection = Connect(emulator, options: new HttpPipelineOptions { Delay = (t, ct) => { lock (waits) waits.Add(t); return Task.Delay(t, ct); } });
        var photos = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => connection.Exchange.GetPhotoBytesAsync(UserRef.Parse("busy@contoso.com"), CancellationToken.None)));
        Assert.All(photos, p => Assert.NotNull(p));
        Assert.NotEmpty(waits);
        Assert.All(waits, w => Assert.Equal(TimeSpan.FromSeconds(1), w));
    }

    [Fact]
    public async Task SharePoint_over_its_budget_answers_with_Retry_After_and_RateLimit_headers()
    {
        var scenario = Scenario.Parse("""{ "sharePointRequestsPerMinute": 5, "sharePointThrottleStatus": 503, "users": [ { "upn": "a@contoso.com", "photo": { "seed": 1 }, "sharePoint": "none" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var http = new HttpClient();
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            var r = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.MySiteUrl, "/_api/web/GetFolderByServerRelativePath(decodedurl=@a1)/Folders?@a1='%2FUser%20Photos'"));
            r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.SharePointToken);
            r.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/json;odata=nometadata"));
            statuses.Add(await http.SendAsync(r));
        }
        Assert.All(statuses.Take(5), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, statuses[5].StatusCode);
        Assert.True(statuses[5].Headers.RetryAfter!.Delta > TimeSpan.FromSeconds(50));
        Assert.Equal("0", statuses[5].Headers.GetValues("RateLimit-Remaining").Single());
        Assert.True(statuses[3].Headers.Contains("RateLimit-Limit"));
        Assert.False(statuses[0].Headers.Contains("RateLimit-Limit"));
    }

    [Fact]
    public async Task Profile_writes_to_the_my_site_host_are_refused_like_the_service_does()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var http = new HttpClient();
        var r = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.MySiteUrl, "/_api/SP.UserProfiles.PeopleManager/SetSingleValueProfileProperty"))
        {
            Content = new StringContent("{\"accountName\":\"i:0#.f|membership|adele.vance@contoso.com\",\"propertyName\":\"PictureURL\",\"propertyValue\":\"x\"}"),
        };
        r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.SharePointToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(r)).StatusCode);
    }

    [Fact]
    public async Task A_batch_item_gets_the_answer_the_same_request_gets_on_its_own()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var http = new HttpClient();
        string[] urls = ["/users/adele.vance@contoso.com/photo", "/users/no.photo2@contoso.com/photo", "/users/nobody@contoso.com/photo/$value", "/users/adele.vance@contoso.com/manager", "/me"];
        var batch = new JsonObject { ["requests"] = new JsonArray(urls.Select((url, i) => (JsonNode)new JsonObject { ["id"] = i.ToString(), ["method"] = "GET", ["url"] = url }).ToArray()) };
        var answers = JsonNode.Parse(await (await http.SendAsync(GraphRequest(emulator, HttpMethod.Post, "/$batch", batch.ToJsonString()))).Content.ReadAsStringAsync())!["responses"]!.AsArray();
        for (var i = 0; i < urls.Length; i++)
        {
            using var alone = await http.SendAsync(GraphRequest(emulator, HttpMethod.Get, urls[i]));
            var item = answers.Single(a => a!["id"]!.GetValue<string>() == i.ToString())!;
            Assert.Equal((int)alone.StatusCode, item["status"]!.GetValue<int>());
            Assert.Equal(JsonNode.Parse(await alone.Content.ReadAsStringAsync())!["error"]?["code"]?.GetValue<string>(), item["body"]!["error"]?["code"]?.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_function_argument_is_a_string_literal_slashes_and_doubled_quotes_included_or_an_alias()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var http = new HttpClient();
        var folders = new List<string>();
        foreach (var path in new[] { "/_api/web/GetFolderByServerRelativePath(decodedurl='/User%20Photos')/Folders", "/_api/web/GetFolderByServerRelativePath(decodedurl=@a1)/Folders?@a1='%2FUser%20Photos'" })
        {
            using var answer = await http.SendAsync(SharePointRequest(emulator, HttpMethod.Get, path));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            folders.Add(await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(folders[0], folders[1]);

        var folder = emulator.State.FolderUrls()[^1];
        var upload = SharePointRequest(emulator, HttpMethod.Post, $"/_api/web/GetFolderByServerRelativePath(decodedurl='{folder}')/Files/AddUsingPath(decodedurl='o''brien 100%.jpg',overwrite=true)");
        upload.Content = new ByteArrayContent([1, 2, 3]);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(upload)).StatusCode);
        Assert.Equal(new byte[] { 1, 2, 3 }, emulator.State.ReadFile(folder + "/o'brien 100%.jpg"));
    }

    [Fact]
    public async Task A_known_path_with_another_method_gets_the_service_answer_not_405()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(DemoScenario));
        using var http = new HttpClient();
        using var graph = await http.SendAsync(GraphRequest(emulator, HttpMethod.Delete, "/subscribedSkus"));
        Assert.Equal(HttpStatusCode.BadRequest, graph.StatusCode);
        Assert.Equal("BadRequest", JsonNode.Parse(await graph.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        using var sharePoint = await http.SendAsync(SharePointRequest(emulator, HttpMethod.Post, "/_api/web"));
        Assert.Equal(HttpStatusCode.NotFound, sharePoint.StatusCode);
        Assert.Equal("-1, Microsoft.SharePoint.Client.InvalidClientQueryException", JsonNode.Parse(await sharePoint.Content.ReadAsStringAsync())!["odata.error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(emulator.ControlUrl, "faults"))).StatusCode);
    }

    private static HttpRequestMessage GraphRequest(Emulator emulator, HttpMethod method, string url, string? json = null)
    {
        var request = new HttpRequestMessage(method, new Uri(emulator.GraphUrl, "v1.0" + url));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.GraphToken);
        if (json is not null) request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        return request;
    }

    private static HttpRequestMessage SharePointRequest(Emulator emulator, HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(emulator.MySiteUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.SharePointToken);
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/json;odata=nometadata"));
        return request;
    }
}
