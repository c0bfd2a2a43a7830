namespace ProfileSync.Core.Http;

/// <summary>
/// Paces SharePoint requests to the tenant's budget, which the client cannot know in advance:
/// - a 429/503 pauses every SharePoint request until its Retry-After (throttled calls still count, so
///   hammering only prolongs it) and halves the concurrency;
/// - RateLimit-Remaining / RateLimit-Reset (sent above 80% of the budget): once fewer requests are
///   left than twice the concurrency, what is left is spread over the time until reset;
/// - clean answers raise the concurrency again, one step per window of clean answers.
/// </summary>
public sealed class SharePointPacer
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private int _inFlight;
    private int _cleanSinceChange;
    private DateTimeOffset _pausedUntil;
    private DateTimeOffset _nextStart;
    private TimeSpan _interval;

    public SharePointPacer(int initialConcurrency = 8, int maxConcurrency = 32, TimeProvider? time = null)
    {
        Limit = initialConcurrency;
        MaxConcurrency = maxConcurrency;
        _time = time ?? TimeProvider.System;
    }

    public int Limit { get; private set; }
    public int MaxConcurrency { get; }
    public TimeSpan Interval { get { lock (_gate) return _interval; } }

    public async ValueTask<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                wait = WaitBeforeStart(_time.GetUtcNow());
                if (wait <= TimeSpan.Zero)
                {
                    _inFlight++;
                    var now = _time.GetUtcNow();
                    _nextStart = (_nextStart > now ? _nextStart : now) + _interval;
                    return new Lease(this);
                }
            }
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How long a request must wait before it may start now; zero when it may start.</summary>
    internal TimeSpan WaitBeforeStart(DateTimeOffset now)
    {
        if (_pausedUntil > now) return _pausedUntil - now;
        if (_nextStart > now) return _nextStart - now;
        return _inFlight < Limit ? TimeSpan.Zero : TimeSpan.FromMilliseconds(5);
    }

    /// <summary>Learns from an answer: throttling, the RateLimit headers, or a clean answer.</summary>
    public void Observe(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (status is 429 or 503)
            {
                var retry = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(5);
                if (now + retry > _pausedUntil) _pausedUntil = now + retry;
                Limit = Math.Max(1, Limit / 2);
                _cleanSinceChange = 0;
                return;
            }
            if (TryHeader(response, "RateLimit-Remaining", out var remaining) && TryHeader(response, "RateLimit-Reset", out var reset))
            {
                // While much of the budget is left, spend it at full speed (a run that ends within it should not wait);
                // once little is left, spread the rest over the time until reset rather than run into 429s.
                _interval = remaining > 2 * Limit ? TimeSpan.Zero
                    : remaining <= 0 ? TimeSpan.FromSeconds(Math.Max(1, reset))
                    : TimeSpan.FromSeconds(Math.Max(0, reset) / remaining);
                if (remaining <= 0 && now + _interval > _pausedUntil) _pausedUntil = now + _interval;
                return;
            }
            _interval = TimeSpan.Zero;
            if (++_cleanSinceChange >= Limit && Limit < MaxConcurrency)
            {
                Limit++;
                _cleanSinceChange = 0;
            }
        }
    }

    private static bool TryHeader(HttpResponseMessage response, string name, out double value)
    {
        value = 0;
        return response.Headers.TryGetValues(name, out var values)
            && double.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    private void Release()
    {
        lock (_gate) _inFlight--;
    }

    private sealed class Lease(SharePointPacer pacer) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) pacer.Release();
        }
    }
}
