using System.Net;
using System.Net.Http.Headers;
using System.Security;
using ProfileSync.Core.Http;

namespace ProfileSync.Core.Tests;

public class HttpPipelineTests
{
    private static readonly ServiceEndpoints Endpoints = ServiceEndpoints.ForTenant("contoso");

    private sealed class RecordingTransport(Func<HttpRequestMessage, int, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<(Uri Uri, string? Auth, string UserAgent)> Seen { get; } = new();
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Seen)
            {
                Seen.Add((request.RequestUri!, request.Headers.Authorization?.ToString(), string.Join(" ", request.Headers.GetValues("User-Agent"))));
                return Task.FromResult(answer(request, Seen.Count));
            }
        }
    }

    private static SecureString Secure(string s)
    {
        var secure = new SecureString();
        foreach (var c in s) secure.AppendChar(c);
        return secure;
    }

    private static (ServiceHttpPipeline, RecordingTransport, List<TimeSpan>) Pipeline(Func<HttpRequestMessage, int, HttpResponseMessage> answer, int maxRetries = 10)
    {
        var transport = new RecordingTransport(answer);
        var waits = new List<TimeSpan>();
        var options = new HttpPipelineOptions { Delay = (t, _) => { waits.Add(t); return Task.CompletedTask; }, MaxRetries = maxRetries };
        return (new ServiceHttpPipeline(Endpoints, new PreAcquiredTokenSource(Secure("GRAPH-TOKEN")), new PreAcquiredTokenSource(Secure("SPO-TOKEN")), options, transport), transport, waits);
    }

    [Fact]
    public async Task Each_token_goes_only_to_its_own_service_and_no_token_to_any_other_host()
    {
        var (pipeline, transport, _) = Pipeline((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        foreach (var url in new[] { "https://graph.microsoft.com/v1.0/users/a/photo", "https://contoso-my.sharepoint.com/_api/web", "https://contoso-admin.sharepoint.com/_api/x", "https://photos.example.net/x.jpg", "https://contoso.sharepoint.com/x", "http://graph.microsoft.com/v1.0/x" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new("Bearer", "SMUGGLED");
            (await pipeline.Client.SendAsync(request)).Dispose();
        }
        Assert.Equal(new string?[] { "Bearer GRAPH-TOKEN", "Bearer SPO-TOKEN", "Bearer SPO-TOKEN", null, null, null }, transport.Seen.Select(s => s.Auth));
        Assert.All(transport.Seen, s => Assert.Matches(@"^NONISV\|ProfileSync\|ProfileSync/\d+\.\d+\.\d+$", s.UserAgent));
        Assert.Equal(1, pipeline.Counters.GraphRequests);
        Assert.Equal(2, pipeline.Counters.SharePointRequests);
        Assert.Equal(3, pipeline.Counters.OtherRequests);
    }

    [Fact]
    public async Task Retry_After_is_honoured_on_429_and_503()
    {
        var (pipeline, transport, waits) = Pipeline((_, n) => n switch
        {
            1 => new HttpResponseMessage((HttpStatusCode)429) { Headers = { RetryAfter = new(TimeSpan.FromSeconds(7)) } },
            2 => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Headers = { RetryAfter = new(TimeSpan.FromSeconds(2)) } },
            _ => new HttpResponseMessage(HttpStatusCode.OK),
        });
        // Graph here: on SharePoint the pacer also holds every request for Retry-After (SharePointPacerTests).
        using var response = await pipeline.Client.GetAsync("https://graph.microsoft.com/v1.0/users/a/photo");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new[] { TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(2) }, waits);
        Assert.Equal(3, transport.Seen.Count);
        Assert.Equal(2, pipeline.Counters.GraphThrottled);
    }

    [Fact]
    public async Task Without_Retry_After_the_wait_doubles_and_is_capped_and_retries_end()
    {
        var (pipeline, transport, waits) = Pipeline((_, _) => new HttpResponseMessage(HttpStatusCode.GatewayTimeout), maxRetries: 10);
        using var response = await pipeline.Client.GetAsync("https://graph.microsoft.com/v1.0/users/a/photo");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(11, transport.Seen.Count);
        Assert.Equal(new double[] { 1, 2, 4, 8, 16, 32, 64, 128, 256, 300 }, waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public async Task A_huge_Retry_After_is_capped_at_300_seconds()
    {
        var (pipeline, _, waits) = Pipeline((_, n) => n == 1
            ? new HttpResponseMessage((HttpStatusCode)429) { Headers = { RetryAfter = new(TimeSpan.FromHours(2)) } }
            : new HttpResponseMessage(HttpStatusCode.OK));
        (await pipeline.Client.GetAsync("https://graph.microsoft.com/v1.0/x")).Dispose();
        Assert.Equal(TimeSpan.FromSeconds(300), Assert.Single(waits));
    }

    [Fact]
    public async Task Other_failures_are_not_retried()
    {
        var (pipeline, transport, waits) = Pipeline((_, _) => new HttpResponseMessage(HttpStatusCode.Forbidden));
        (await pipeline.Client.GetAsync("https://graph.microsoft.com/v1.0/x")).Dispose();
        Assert.Single(transport.Seen);
        Assert.Empty(waits);
    }

    [Fact]
    public async Task Redirects_are_not_followed()
    {
        var (pipeline, transport, _) = Pipeline((_, _) => new HttpResponseMessage(HttpStatusCode.Redirect) { Headers = { Location = new Uri("https://evil.example.net/") } });
        using var response = await pipeline.Client.GetAsync("https://contoso-my.sharepoint.com/_api/web");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Single(transport.Seen);
    }

    [Fact]
    public async Task A_host_that_does_not_answer_fails_after_a_few_quick_retries_with_ServiceUnreachable()
    {
        var (pipeline, transport, waits) = Pipeline((_, _) => throw new HttpRequestException("Connection refused (127.0.0.1:9)"));
        var ex = await Assert.ThrowsAsync<ProfileSyncException>(() => pipeline.Client.GetAsync("https://contoso-my.sharepoint.com/_api/web"));
        Assert.Equal(ErrorIds.ServiceUnreachable, ex.ErrorId);
        Assert.Contains("Connection refused", ex.Message);
        Assert.Equal(4, transport.Seen.Count);
        Assert.Equal(new double[] { 1, 2, 4 }, waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public async Task A_connection_dropped_once_is_retried_and_succeeds()
    {
        var (pipeline, transport, _) = Pipeline((_, n) => n == 1 ? throw new HttpRequestException("reset") : new HttpResponseMessage(HttpStatusCode.OK));
        using var response = await pipeline.Client.PostAsync("https://contoso-my.sharepoint.com/_api/x", new ByteArrayContent(new byte[] { 1, 2, 3 }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, transport.Seen.Count);
    }

    [Fact]
    public void Token_sources_never_show_the_token()
    {
        var source = new PreAcquiredTokenSource(Secure("SECRET-VALUE"));
        Assert.DoesNotContain("SECRET", source.ToString());
        Assert.DoesNotContain("SECRET", source.Description);
        Assert.Throws<ArgumentException>(() => new PreAcquiredTokenSource(new SecureString()));
    }
}

public class SharePointPacerTests
{
    private static HttpResponseMessage Answer(int status, int? retryAfter = null, (int Remaining, int Reset)? rate = null)
    {
        var r = new HttpResponseMessage((HttpStatusCode)status);
        if (retryAfter is int s) r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(s));
        if (rate is { } x)
        {
            r.Headers.Add("RateLimit-Limit", "100");
            r.Headers.Add("RateLimit-Remaining", x.Remaining.ToString());
            r.Headers.Add("RateLimit-Reset", x.Reset.ToString());
        }
        return r;
    }

    [Fact]
    public void Throttling_pauses_every_request_until_Retry_After_and_halves_the_concurrency()
    {
        var pacer = new SharePointPacer(initialConcurrency: 8);
        var now = DateTimeOffset.UtcNow;
        pacer.Observe(Answer(429, retryAfter: 30));
        Assert.Equal(4, pacer.Limit);
        var wait = pacer.WaitBeforeStart(DateTimeOffset.UtcNow);
        Assert.InRange(wait.TotalSeconds, 29, 30.5);
        pacer.Observe(Answer(503, retryAfter: 5));
        Assert.Equal(2, pacer.Limit);
        Assert.InRange(pacer.WaitBeforeStart(DateTimeOffset.UtcNow).TotalSeconds, 29, 30.5); // the longer pause stands
        Assert.Equal(TimeSpan.Zero, pacer.WaitBeforeStart(now.AddSeconds(31)));
    }

    [Fact]
    public void RateLimit_headers_spread_the_last_of_the_budget_until_reset()
    {
        var pacer = new SharePointPacer(initialConcurrency: 8);
        pacer.Observe(Answer(200, rate: (Remaining: 500, Reset: 50)));
        Assert.Equal(TimeSpan.Zero, pacer.Interval); // plenty left: full speed
        pacer.Observe(Answer(200, rate: (Remaining: 10, Reset: 5)));
        Assert.Equal(TimeSpan.FromMilliseconds(500), pacer.Interval);
        pacer.Observe(Answer(200, rate: (Remaining: 0, Reset: 7)));
        Assert.InRange(pacer.WaitBeforeStart(DateTimeOffset.UtcNow).TotalSeconds, 6, 7.5); // nothing left: wait for the reset
        pacer.Observe(Answer(200));
        Assert.Equal(TimeSpan.Zero, pacer.Interval);
    }

    [Fact]
    public void Clean_answers_raise_the_concurrency_step_by_step_up_to_the_maximum()
    {
        var pacer = new SharePointPacer(initialConcurrency: 2, maxConcurrency: 4);
        for (var i = 0; i < 100; i++) pacer.Observe(Answer(200));
        Assert.Equal(4, pacer.Limit);
    }

    [Fact]
    public async Task At_most_Limit_requests_are_in_flight()
    {
        var pacer = new SharePointPacer(initialConcurrency: 3, maxConcurrency: 3);
        var leases = new List<IDisposable>();
        for (var i = 0; i < 3; i++) leases.Add(await pacer.AcquireAsync(CancellationToken.None));
        var fourth = pacer.AcquireAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(fourth.IsCompleted);
        leases[0].Dispose();
        (await fourth.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }
}
