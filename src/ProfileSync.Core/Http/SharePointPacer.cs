namespace ProfileSync.Core.Http;

/// <summary>
/// Paces SharePoint requests to the tenant's budget, which the client cannot know in advance:
/// - a 429/503 pauses every SharePoint request until its Retry-After (throttled calls still count, so
///   hammering only prolongs it) and halves the concurrency;
/// - RateLimit-Remaining / RateLimit-Reset (sent above 80% of the budget): once fewer requests are
///   left than twice the concurrency, what is left is spread over the time until reset;
/// - clean answers raise the concurrency again, one step per window of clean answers;
/// - with a model of SharePoint's three ceilings (<see cref="SetCeilings"/>), every request is also
///   spaced by one token bucket per ceiling, so none is reached rather than found by a 429:
///   per-app resource units (REST 2 RU, Graph requests counted at their fixed cost), the tenant's
///   PeopleManager calls times ProfileSync's share, and the signed-in user's requests (delegated only).
///   A bucket of budget E per window W holds at most B = max(cost, E/20) and refills at (E - B)/W, so
///   no window W ever sees more than B + (E - B) = E, with E = ceiling × headroom (× share).
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
    private SharePointCeilings? _ceilings;
    private Bucket? _app, _peopleManager, _user;
    private SharePointCeiling _binding;
    private DateTimeOffset _bindingAt;
    private TimeSpan _bindingWait;

    public SharePointPacer(int initialConcurrency = 8, int maxConcurrency = 32, TimeProvider? time = null)
    {
        Limit = initialConcurrency;
        MaxConcurrency = maxConcurrency;
        _time = time ?? TimeProvider.System;
    }

    public int Limit { get; private set; }
    public int MaxConcurrency { get; }
    public TimeSpan Interval { get { lock (_gate) return _interval; } }

    /// <summary>The ceilings the pacer plans under; null: none known, it learns from 429s and RateLimit headers only.</summary>
    public SharePointCeilings? Ceilings { get { lock (_gate) return _ceilings; } }

    /// <summary>Sets (or, with null, drops) the model of the ceilings; the buckets start full.</summary>
    public void SetCeilings(SharePointCeilings? ceilings)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _ceilings = ceilings;
            _app = ceilings is { AppResourceUnits: > 0 } ? new Bucket(ceilings.AppBudget, ceilings.AppWindow, ceilings.RestCost, now) : null;
            _peopleManager = ceilings is { PeopleManagerCalls: > 0 } ? new Bucket(ceilings.PeopleManagerBudget, ceilings.PeopleManagerWindow, 1, now) : null;
            _user = ceilings is { UserRequests: > 0 } ? new Bucket(ceilings.UserBudget, ceilings.UserWindow, 1, now) : null;
            _binding = SharePointCeiling.None;
        }
    }

    /// <summary>True for every SP.UserProfiles.PeopleManager call, reads and writes (the tenant-wide ceiling counts them).</summary>
    public static bool IsPeopleManagerCall(Uri? uri) =>
        uri is not null && uri.AbsoluteUri.Contains("SP.UserProfiles.PeopleManager", StringComparison.OrdinalIgnoreCase);

    public ValueTask<IDisposable> AcquireAsync(CancellationToken cancellationToken) => AcquireAsync(peopleManager: false, cancellationToken);

    /// <summary>Waits until a SharePoint request may start under the pause, the spacing, the concurrency and every ceiling; then spends its cost.</summary>
    public async ValueTask<IDisposable> AcquireAsync(bool peopleManager, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryStart(peopleManager, out var wait) is { } lease) return lease;
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a request now if everything allows it (its cost spent), else null and how long to wait.</summary>
    internal IDisposable? TryStart(bool peopleManager, out TimeSpan wait)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            wait = WaitBeforeStart(now);
            var ceilingWait = CeilingWait(peopleManager, now, out var which);
            if (ceilingWait > wait)
            {
                wait = ceilingWait;
                (_binding, _bindingAt, _bindingWait) = (which, now, ceilingWait);
            }
            if (wait > TimeSpan.Zero) return null;
            _inFlight++;
            _app?.Spend(_ceilings!.RestCost);
            if (peopleManager) _peopleManager?.Spend(1);
            _user?.Spend(1);
            _nextStart = (_nextStart > now ? _nextStart : now) + _interval;
            return new Lease(this);
        }
    }

    /// <summary>How long the ceilings hold a request back now, and which ceiling holds it longest.</summary>
    internal TimeSpan CeilingWait(bool peopleManager, DateTimeOffset now, out SharePointCeiling which)
    {
        which = SharePointCeiling.None;
        var wait = TimeSpan.Zero;
        if (_app is not null) Longest(_app.WaitFor(_ceilings!.RestCost, now), SharePointCeiling.AppResourceUnits, ref wait, ref which);
        if (peopleManager && _peopleManager is not null) Longest(_peopleManager.WaitFor(1, now), SharePointCeiling.PeopleManagerCalls, ref wait, ref which);
        if (_user is not null) Longest(_user.WaitFor(1, now), SharePointCeiling.UserRequests, ref wait, ref which);
        return wait;

        static void Longest(TimeSpan w, SharePointCeiling c, ref TimeSpan wait, ref SharePointCeiling which)
        {
            if (w > wait) (wait, which) = (w, c);
        }
    }

    /// <summary>
    /// A Graph request of the same app: its fixed cost (1 RU for one item or a download, 2 for a list
    /// or a write; a $batch counts its items) is spent from the per-app budget without waiting, so the
    /// SharePoint requests leave room for it. The debt is capped at one window's budget.
    /// </summary>
    public void SpendGraph(double resourceUnits)
    {
        lock (_gate) _app?.Spend(resourceUnits, _time.GetUtcNow());
    }

    /// <summary>
    /// The least time the ceilings allow for the given work from now: per bucket, (demand - level) / rate,
    /// the longest of them (zero when everything fits in what is left).
    /// </summary>
    public TimeSpan LeastTimeFor(long peopleManagerCalls, long otherSharePointRequests, double graphResourceUnits = 0)
    {
        lock (_gate)
        {
            if (_ceilings is null) return TimeSpan.Zero;
            var now = _time.GetUtcNow();
            var requests = peopleManagerCalls + otherSharePointRequests;
            var least = TimeSpan.Zero;
            if (_app is not null) least = Max(least, _app.TimeFor(requests * _ceilings.RestCost + graphResourceUnits, now));
            if (_peopleManager is not null) least = Max(least, _peopleManager.TimeFor(peopleManagerCalls, now));
            if (_user is not null) least = Max(least, _user.TimeFor(requests, now));
            return least;
        }
    }

    /// <summary>
    /// Which ceiling binds now (held a request back within the last 2 seconds), its planned rate, and the
    /// wait it imposed; or that none does. For progress and verbose text.
    /// </summary>
    public string BindingCeiling
    {
        get
        {
            lock (_gate)
            {
                var c = System.Globalization.CultureInfo.InvariantCulture;
                if (_ceilings is null) return "none known: pacing by 429s and RateLimit headers only";
                var now = _time.GetUtcNow();
                if (_pausedUntil > now) return string.Format(c, "throttled: every SharePoint request paused for {0:0.#} s (Retry-After)", (_pausedUntil - now).TotalSeconds);
                if (_binding == SharePointCeiling.None || now - _bindingAt > TimeSpan.FromSeconds(2))
                    return "none binding now: full speed within " + _ceilings;
                var what = _binding switch
                {
                    SharePointCeiling.AppResourceUnits => string.Format(c, "per-app resource units: {0:N0} RU per {1} planned ({2:N0} × {3:P0}), {4:0.##} RU/s", _ceilings.AppBudget, SharePointCeilings.Window(_ceilings.AppWindow), _ceilings.AppResourceUnits, _ceilings.AppHeadroom, _app!.Rate),
                    SharePointCeiling.PeopleManagerCalls => string.Format(c, "PeopleManager calls (tenant-wide): {0:N0} per {1} planned ({2:N0} × share {3:P0} × {4:P0}), {5:0.##} calls/s", _ceilings.PeopleManagerBudget, SharePointCeilings.Window(_ceilings.PeopleManagerWindow), _ceilings.PeopleManagerCalls, _ceilings.PeopleManagerShare, _ceilings.Headroom, _peopleManager!.Rate),
                    _ => string.Format(c, "signed-in user's requests: {0:N0} per {1} planned ({2:N0} × {3:P0}), {4:0.##} requests/s", _ceilings.UserBudget, SharePointCeilings.Window(_ceilings.UserWindow), _ceilings.UserRequests, _ceilings.Headroom, _user!.Rate),
                };
                return string.Format(c, "{0}; last wait {1:0.###} s", what, _bindingWait.TotalSeconds);
            }
        }
    }

    /// <summary>The ceiling that last held a request back, and when.</summary>
    public (SharePointCeiling Ceiling, DateTimeOffset At) LastBinding { get { lock (_gate) return (_binding, _bindingAt); } }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

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

    /// <summary>
    /// A token bucket for one ceiling: budget E a window W; capacity B = max(largest cost, E/20), refill
    /// (E - B)/W a second. Any window W then holds at most B + (E - B) = E spent. Level may go below
    /// zero (Graph spends without waiting), down to -E.
    /// </summary>
    internal sealed class Bucket
    {
        public Bucket(double budget, TimeSpan window, double largestCost, DateTimeOffset now)
        {
            Budget = budget;
            Capacity = Math.Max(largestCost, budget / 20);
            Rate = Math.Max(budget - Capacity, budget / 20) / window.TotalSeconds;
            Level = Capacity;
            _updated = now;
        }

        private DateTimeOffset _updated;
        public double Budget { get; }
        public double Capacity { get; }
        /// <summary>Refill, units a second.</summary>
        public double Rate { get; }
        public double Level { get; private set; }

        private void Refill(DateTimeOffset now)
        {
            if (now > _updated) Level = Math.Min(Capacity, Level + Rate * (now - _updated).TotalSeconds);
            _updated = now > _updated ? now : _updated;
        }

        public TimeSpan WaitFor(double cost, DateTimeOffset now)
        {
            Refill(now);
            return Level >= cost ? TimeSpan.Zero : TimeSpan.FromSeconds((cost - Level) / Rate);
        }

        /// <summary>The least time until the bucket holds <paramref name="demand"/> (the same as the wait for one request of that cost).</summary>
        public TimeSpan TimeFor(double demand, DateTimeOffset now) => WaitFor(demand, now);

        public void Spend(double cost) => Level -= cost;

        public void Spend(double cost, DateTimeOffset now)
        {
            Refill(now);
            Level = Math.Max(-Budget, Level - cost);
        }
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
