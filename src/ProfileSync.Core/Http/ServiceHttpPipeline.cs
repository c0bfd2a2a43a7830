using System.Net;
using System.Net.Http.Headers;

namespace ProfileSync.Core.Http;

/// <summary>How SharePoint requests are paced: under the modelled ceilings, or only by the service's own answers.</summary>
public enum SharePointPacing { Ceilings, Adaptive }

/// <summary>Settings of the one HTTP pipeline. Delays are injectable so tests do not sleep.</summary>
public sealed class HttpPipelineOptions
{
    /// <summary>PnP PowerShell's policy, which admins trust: at most 10 retries.</summary>
    public int MaxRetries { get; init; } = 10;
    /// <summary>No single wait longer than this, whatever Retry-After says.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(300);
    /// <summary>Retries of a request that got no answer at all (refused, reset, timed out): few, since a host that is down rarely comes back within minutes.</summary>
    public int MaxNetworkRetries { get; init; } = 3;
    /// <summary>First back-off when the answer carries no Retry-After; doubles each retry.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Per-attempt timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);
    /// <summary>How to wait; replaced in tests.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;
    /// <summary>The clock of the SharePoint pacer's shared pauses; replaced in tests.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>SharePoint requests in flight at first; the pacer adapts from there.</summary>
    public int SharePointInitialConcurrency { get; init; } = 8;
    public int SharePointMaxConcurrency { get; init; } = 32;
    /// <summary>
    /// Ceilings (default): SharePoint requests are paced under the three documented ceilings of the
    /// tenant's licence band. Adaptive: paced only by what the service answers (429 Retry-After,
    /// RateLimit headers), as ProfileSync 0.3 did: for a tenant where ProfileSync runs alone off-peak,
    /// or a service that is not SharePoint Online's multi-tenant one.
    /// </summary>
    public SharePointPacing Pacing { get; init; } = SharePointPacing.Ceilings;
    /// <summary>The licence band, when the admin knows it (-TenantSize); null: read from Graph /subscribedSkus, else the smallest.</summary>
    public TenantSizeBand? TenantSize { get; init; }
    /// <summary>The part of the tenant's PeopleManager ceiling (shared with every app) ProfileSync may spend: 0.05 to 1.0.</summary>
    public double PeopleManagerShare { get; init; } = SharePointCeilings.DefaultPeopleManagerShare;
    /// <summary>Explicit ceilings (tests, scaled-down tenants); wins over the band.</summary>
    public SharePointCeilings? Ceilings { get; init; }
    /// <summary>Whether the sign-in is delegated; null: from the sign-in method, or the token's claims.</summary>
    public bool? Delegated { get; init; }
    /// <summary>Documented decoration: NONISV|CompanyName|AppName/Version. Undecorated traffic is throttled first.</summary>
    public string UserAgent { get; init; } = DefaultUserAgent;

    public static string DefaultUserAgent =>
        "NONISV|ProfileSync|ProfileSync/" + (typeof(HttpPipelineOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
}

/// <summary>
/// Sees each answer the pipeline gets (every attempt, retries and 401s included) with the request that
/// got it, for a diagnostic report. Called before the caller reads the answer; it must not consume a
/// streamed body (buffer it first) and must never keep a header value.
/// </summary>
public interface IHttpExchangeRecorder
{
    ValueTask RecordAsync(ServiceKind service, HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken);
}

/// <summary>
/// The single place that owns HTTP for both services: which host gets which token (and no other
/// host any), the User-Agent, retries with Retry-After, and the request counters. Nothing else in
/// ProfileSync creates an HttpClient.
/// </summary>
public sealed class ServiceHttpPipeline : IDisposable
{
    private readonly HttpClient _client;

    public ServiceHttpPipeline(ServiceEndpoints endpoints, IAccessTokenSource graphToken, IAccessTokenSource sharePointToken,
        HttpPipelineOptions? options = null, HttpMessageHandler? transport = null)
    {
        Options = options ?? new HttpPipelineOptions();
        Counters = new RequestCounters();
        SharePointPacer = new SharePointPacer(Options.SharePointInitialConcurrency, Options.SharePointMaxConcurrency, Options.Time);
        if (Options.Ceilings is not null) SharePointPacer.SetCeilings(Options.Ceilings);
        transport ??= new SocketsHttpHandler
        {
            // A redirect would carry our request to a host we did not choose: never follow one silently.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 64,
        };
        var handler = new ServiceHandler(endpoints, graphToken, sharePointToken, Options, Counters, SharePointPacer, _recorder) { InnerHandler = transport };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// Marks a request that must carry none of our tokens whatever its host (a photo source URL someone
    /// else gave us, even if it names a tenant host).
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> WithoutToken = new("ProfileSync.WithoutToken");

    /// <summary>How many requests a Graph $batch carries (each counts against the app's budget on its own); set by its sender.</summary>
    public static readonly HttpRequestOptionsKey<int> BatchItems = new("ProfileSync.BatchItems");

    /// <summary>The recorder of the current async flow only: a diagnostic run records its own requests, never another command's on the same connection.</summary>
    private readonly AsyncLocal<IHttpExchangeRecorder?> _recorder = new();

    /// <summary>
    /// Turns recording on for the calling flow (and the tasks it starts) until the result is disposed.
    /// Off by default: nothing is recorded unless someone asks.
    /// </summary>
    public IDisposable Record(IHttpExchangeRecorder recorder)
    {
        var previous = _recorder.Value;
        _recorder.Value = recorder;
        return new Recording(_recorder, previous);
    }

    private sealed class Recording(AsyncLocal<IHttpExchangeRecorder?> slot, IHttpExchangeRecorder? previous) : IDisposable
    {
        public void Dispose() => slot.Value = previous;
    }

    public HttpPipelineOptions Options { get; }
    public RequestCounters Counters { get; }
    public SharePointPacer SharePointPacer { get; }

    /// <summary>The client every service adapter uses (the Graph SDK included).</summary>
    public HttpClient Client => _client;

    public void Dispose() => _client.Dispose();

    private sealed class ServiceHandler : DelegatingHandler
    {
        private readonly ServiceEndpoints _endpoints;
        private readonly IAccessTokenSource _graphToken, _sharePointToken;
        private readonly HttpPipelineOptions _options;
        private readonly RequestCounters _counters;
        private readonly SharePointPacer _pacer;
        private readonly AsyncLocal<IHttpExchangeRecorder?> _recorder;

        public ServiceHandler(ServiceEndpoints endpoints, IAccessTokenSource graphToken, IAccessTokenSource sharePointToken,
            HttpPipelineOptions options, RequestCounters counters, SharePointPacer pacer, AsyncLocal<IHttpExchangeRecorder?> recorder)
        {
            _recorder = recorder;
            _pacer = pacer;
            _endpoints = endpoints;
            _graphToken = graphToken;
            _sharePointToken = sharePointToken;
            _options = options;
            _counters = counters;
        }

        public ServiceKind Classify(Uri uri)
        {
            if (Identity.UrlText.SameAuthority(uri, _endpoints.GraphRoot)) return ServiceKind.Graph;
            if (Identity.UrlText.SameAuthority(uri, _endpoints.MySiteHost) || Identity.UrlText.SameAuthority(uri, _endpoints.SharePointAdmin))
                return ServiceKind.SharePoint;
            return ServiceKind.Other;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var kind = request.RequestUri is null ? ServiceKind.Other : Classify(request.RequestUri);
            request.Headers.UserAgent.Clear();
            request.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
            // Whatever a caller set, a token goes only to the host it was issued for.
            request.Headers.Authorization = null;
            var tokenSource = request.Options.TryGetValue(WithoutToken, out var anonymous) && anonymous ? null : kind switch
            {
                ServiceKind.Graph => _graphToken,
                ServiceKind.SharePoint => _sharePointToken,
                _ => null,
            };
            if (request.Content is not null)
                await request.Content.LoadIntoBufferAsync().ConfigureAwait(false); // so a retry can send it again

            var networkFailures = 0;
            var renewed = false;
            for (var attempt = 0; ; attempt++)
            {
                string? sent = null;
                if (tokenSource is not null)
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sent = await tokenSource.GetTokenAsync(cancellationToken).ConfigureAwait(false));
                _counters.CountRequest(kind, request.Content?.Headers.ContentLength ?? 0);
                if (kind == ServiceKind.Graph && _pacer.Ceilings is not null) _pacer.SpendGraph(GraphCost(request));

                HttpResponseMessage response;
                Exception? failure = null;
                // The pacer's wait (a pause after throttling) is not part of the request's own timeout.
                using (var lease = kind == ServiceKind.SharePoint ? await _pacer.AcquireAsync(SharePointPacer.IsPeopleManagerCall(request.RequestUri), cancellationToken).ConfigureAwait(false) : null)
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    timeout.CancelAfter(_options.RequestTimeout);
                    try
                    {
                        response = await base.SendAsync(request, timeout.Token).ConfigureAwait(false);
                        if (kind == ServiceKind.SharePoint) _pacer.Observe(response);
                    }
                    catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = ex;
                        response = null!;
                    }
                    catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = ex;
                        response = null!;
                    }
                }
                if (failure is not null)
                {
                    networkFailures++;
                    if (networkFailures > _options.MaxNetworkRetries) throw Unreachable(request, kind, failure);
                    _counters.CountRetry();
                    await _options.Delay(Backoff(networkFailures - 1), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (response.Content.Headers.ContentLength is long length) _counters.CountReceived(length);
                if (_recorder.Value is { } recorder) await recorder.RecordAsync(kind, request, response, cancellationToken).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (status == 401 && sent is not null && !renewed && tokenSource!.Renew(sent))
                {
                    // A token can expire or be revoked mid-run: renew it once; a second 401 is the caller's to report.
                    renewed = true;
                    response.Dispose();
                    _counters.CountRetry();
                    continue;
                }
                if (status is not (429 or 503 or 504)) return response;

                _counters.CountThrottled(kind);
                if (attempt >= _options.MaxRetries) return response;
                var wait = RetryAfter(response) ?? Backoff(attempt);
                if (wait > _options.MaxRetryDelay) wait = _options.MaxRetryDelay;
                response.Dispose();
                _counters.CountRetry();
                await _options.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// A Graph request's fixed cost in resource units (Microsoft's throttling guidance): 1 for one item
        /// or a download, 2 for a list or any write; a $batch counts its items one by one (its sender says
        /// how many, <see cref="BatchItems"/>: ProfileSync batches only single-item reads).
        /// </summary>
        internal static double GraphCost(HttpRequestMessage request)
        {
            if (request.Options.TryGetValue(BatchItems, out var items)) return items;
            if (request.Method != HttpMethod.Get) return 2;
            var path = (request.RequestUri?.AbsolutePath ?? "").TrimEnd('/');
            return path.EndsWith("/users", StringComparison.OrdinalIgnoreCase) || path.EndsWith("/subscribedSkus", StringComparison.OrdinalIgnoreCase) ? 2 : 1;
        }

        private ProfileSyncException Unreachable(HttpRequestMessage request, ServiceKind kind, Exception failure)
        {
            var what = failure is OperationCanceledException ? $"no answer within {_options.RequestTimeout.TotalSeconds:0} s" : failure.Message;
            return new ProfileSyncException(ErrorIds.ServiceUnreachable, FailureKind.ConnectionError,
                $"{kind} at {request.RequestUri?.Host}:{request.RequestUri?.Port} could not be reached after {_options.MaxNetworkRetries + 1} tries: {what}", failure)
            {
                RecommendedAction = "Check the network path and the endpoint parameters of Connect-ProfileSync, then run again.",
            };
        }

        private TimeSpan Backoff(int attempt)
        {
            var seconds = _options.InitialBackoff.TotalSeconds * Math.Pow(2, Math.Min(attempt, 16));
            return TimeSpan.FromSeconds(Math.Min(seconds, _options.MaxRetryDelay.TotalSeconds));
        }

        /// <summary>Retry-After in seconds or as an HTTP date, as both services may send it.</summary>
        internal static TimeSpan? RetryAfter(HttpResponseMessage response)
        {
            var header = response.Headers.RetryAfter;
            if (header?.Delta is TimeSpan delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            if (header?.Date is DateTimeOffset date)
            {
                var wait = date - DateTimeOffset.UtcNow;
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
            return null;
        }
    }
}
