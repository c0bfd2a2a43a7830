using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using ProfileSync.Core.Exchange;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

public class GraphBatchTests
{
    [Fact]
    public void Batch_answers_read_each_documented_shape()
    {
        const string body = """
        {"responses":[
          {"id":"0","status":200,"headers":{"Content-Type":"application/json"},"body":{"@odata.mediaContentType":"image/jpeg","@odata.mediaEtag":"\"BA09D118\"","id":"240x240","width":240,"height":240}},
          {"id":"1","status":404,"body":{"error":{"code":"ImageNotFound","message":"Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."}}},
          {"id":"2","status":404,"body":{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}},
          {"id":"3","status":429,"headers":{"Retry-After":"7"},"body":{"error":{"code":"ApplicationThrottled","message":"Application is over its MailboxConcurrency limit."}}},
          {"id":"4","status":200,"body":{"@odata.mediaContentType":"image/gif","@odata.mediaEtag":"","id":"1x1","width":1,"height":1}}
        ]}
        """;
        var answers = GraphPhotoBatch.ParseAnswers(body);
        Assert.Equal(5, answers.Count);
        Assert.Equal("\"BA09D118\"", answers[0].String("@odata.mediaEtag"));
        Assert.Equal(240, answers[0].Int("width"));
        Assert.Equal(("ImageNotFound", 404), (answers[1].ErrorCode, answers[1].Status));
        Assert.Equal("Request_ResourceNotFound", answers[2].ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(7), answers[3].RetryAfter);
        var u = UserRef.Parse("a@contoso.com");
        Assert.Equal(ExchangePhotoStatus.NoPhoto, ExchangePhotoClient.Classify(u, 404, "ImageNotFound", null, "x").Status);
        Assert.Equal(ExchangePhotoStatus.UserNotFound, ExchangePhotoClient.Classify(u, 404, "Request_ResourceNotFound", null, "x").Status);
        Assert.Equal(ExchangePhotoStatus.NoPhoto, ExchangePhotoClient.FromMetadata("image/gif", "", 1, 1).Status);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<ProfileSyncException>(() => ExchangePhotoClient.Classify(u, 403, "Authorization_RequestDenied", "Insufficient privileges", "x")).ErrorId);
    }

    [Fact]
    public async Task Throttled_items_are_sent_again_after_their_Retry_After_and_the_others_are_kept()
    {
        var calls = 0;
        var transport = new StubTransport(request =>
        {
            calls++;
            var body = request.Content!.ReadAsStringAsync().Result;
            var ids = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("requests").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
            var items = ids.Select(id => calls == 1 && id == "1"
                ? $"{{\"id\":\"{id}\",\"status\":429,\"headers\":{{\"Retry-After\":\"3\"}},\"body\":{{\"error\":{{\"code\":\"ApplicationThrottled\",\"message\":\"over\"}}}}}}"
                : $"{{\"id\":\"{id}\",\"status\":200,\"body\":{{\"@odata.mediaContentType\":\"image/jpeg\",\"@odata.mediaEtag\":\"\\\"E{id}\\\"\",\"width\":96,\"height\":96}}}}");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"responses\":[" + string.Join(",", items) + "]}") };
        });
        var waits = new List<TimeSpan>();
        var endpoints = ServiceEndpoints.ForTenant("contoso");
        using var pipeline = new ServiceHttpPipeline(endpoints, new PreAcquiredTokenSource(EmulatorServiceTests.Secure("g")), new PreAcquiredTokenSource(EmulatorServiceTests.Secure("s")),
            new HttpPipelineOptions { Delay = (t, _) => { waits.Add(t); return Task.CompletedTask; } }, transport);
        var batch = new GraphPhotoBatch(pipeline, endpoints);
        var users = new[] { "a@contoso.com", "b@contoso.com", "c@contoso.com" }.Select(UserRef.Parse).ToList();
        var results = await batch.GetPhotoInfosAsync(users, CancellationToken.None);
        Assert.Equal(new[] { "\"E0\"", "\"E1\"", "\"E2\"" }, results.Select(r => r.Info!.ETag));
        Assert.Equal(2, calls);
        Assert.Equal(new[] { TimeSpan.FromSeconds(3) }, waits);
        Assert.Contains("\"/users/b%40contoso.com/photo\"", transport.LastBody); // the retry carries only the throttled user
        Assert.DoesNotContain("a%40contoso.com", transport.LastBody);
    }

    [Fact]
    public async Task Lookups_of_users_in_flight_at_once_go_out_as_batches_of_up_to_20()
    {
        var scenario = Scenario.Parse("""{ "population": { "count": 45, "upnFormat": "u{0:00}@contoso.com", "mix": [ "synced-objectid", "no-exchange-photo" ] } }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        // A manual clock holds the gathering window open, so a slow machine cannot split the batches.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var batcher = new PhotoMetadataBatcher(new GraphPhotoBatch(connection.Pipeline, connection.Endpoints), TimeSpan.FromMilliseconds(5), clock);
        var users = Enumerable.Range(1, 45).Select(i => UserRef.Parse($"u{i:00}@contoso.com")).ToList();
        var pending = users.Select(u => batcher.GetAsync(u, CancellationToken.None)).ToList();
        clock.Advance(TimeSpan.FromMilliseconds(5));
        var lookups = await Task.WhenAll(pending);
        Assert.All(lookups, l => Assert.Null(l.Failure));
        Assert.Equal(23, lookups.Count(l => l.Info!.Status == ExchangePhotoStatus.Found));
        Assert.Equal(22, lookups.Count(l => l.Info!.Status == ExchangePhotoStatus.NoPhoto));
        var batches = emulator.State.RequestLog.Where(e => e.Service == "graph").ToList();
        Assert.Equal(3, batches.Count);
        Assert.All(batches, b => Assert.EndsWith("/$batch", b.Target));
        Assert.Equal(45, emulator.State.RequestLog.Count(e => e.Service == "graph-batch-item"));
    }

    [Fact]
    public async Task The_emulator_refuses_more_than_20_and_runs_4_items_of_a_batch_at_a_time()
    {
        var scenario = Scenario.Parse("""{ "latencyMs": 50, "population": { "count": 20, "upnFormat": "u{0:00}@contoso.com", "mix": [ "none" ] } }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var http = new HttpClient();
        async Task<HttpResponseMessage> Send(int count)
        {
            var items = Enumerable.Range(1, count).Select(i => $"{{\"id\":\"{i}\",\"method\":\"GET\",\"url\":\"/users/u{Math.Min(i, 20):00}%40contoso.com/photo\"}}");
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.GraphUrl, "v1.0/$batch")) { Content = new StringContent("{\"requests\":[" + string.Join(",", items) + "]}") };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.GraphToken);
            return await http.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(21)).StatusCode);
        var clock = Stopwatch.StartNew();
        var ok = await Send(20);
        clock.Stop();
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(20, System.Text.Json.JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("responses").GetArrayLength());
        // 20 items, 4 at a time, 50 ms each: at least 5 rounds.
        Assert.True(clock.ElapsedMilliseconds >= 240, $"took {clock.ElapsedMilliseconds} ms");
    }

    private sealed class StubTransport(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public string LastBody { get; private set; } = "";
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastBody = request.Content?.ReadAsStringAsync(cancellationToken).Result ?? "";
            return Task.FromResult(answer(request));
        }
    }
}
