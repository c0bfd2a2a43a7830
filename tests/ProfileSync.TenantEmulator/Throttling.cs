using System.Collections.Concurrent;

namespace ProfileSync.TenantEmulator;

/// <summary>Graph's Outlook limit: at most N photo requests in flight for one mailbox (facts doc, section 4).</summary>
public sealed class MailboxConcurrency
{
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.OrdinalIgnoreCase);
    private int _peak;

    public int Peak => Volatile.Read(ref _peak);

    /// <summary>Counts the request in; false when it is one too many (it is counted out again at once).</summary>
    public bool TryEnter(string mailbox, int limit)
    {
        var now = _inFlight.AddOrUpdate(mailbox, 1, (_, n) => n + 1);
        int peak;
        while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak) { }
        if (limit > 0 && now > limit)
        {
            Exit(mailbox);
            return false;
        }
        return true;
    }

    public void Exit(string mailbox) => _inFlight.AddOrUpdate(mailbox, 0, (_, n) => n - 1);
}

/// <summary>
/// SharePoint's budget per minute (facts doc, section 5): requests in a sliding minute, throttled
/// ones included (they still count). Over the budget: Retry-After until the oldest leaves the
/// window. Above 80%: RateLimit-* headers.
/// </summary>
public sealed class SharePointBudget
{
    private readonly Queue<DateTimeOffset> _window = new();
    private readonly object _gate = new();

    public void Reset()
    {
        lock (_gate) _window.Clear();
    }

    public (bool Allowed, int Used, TimeSpan RetryAfter) Spend(int perMinute, DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_window.Count > 0 && now - _window.Peek() >= TimeSpan.FromMinutes(1)) _window.Dequeue();
            var allowed = perMinute <= 0 || _window.Count < perMinute;
            var retry = _window.Count > 0 ? _window.Peek() + TimeSpan.FromMinutes(1) - now : TimeSpan.Zero;
            _window.Enqueue(now);
            return (allowed, _window.Count, retry < TimeSpan.Zero ? TimeSpan.Zero : retry);
        }
    }
}

/// <summary>
/// Costs in a sliding window (facts doc section 5): every call counts, throttled ones included. Over
/// the limit: the time until enough of the window's oldest costs leave it for this call to fit.
/// </summary>
public sealed class SlidingWindow
{
    private readonly Queue<(DateTimeOffset At, double Cost)> _window = new();
    private double _sum;

    public double Used => _sum;

    public void Reset()
    {
        _window.Clear();
        _sum = 0;
    }

    /// <summary>Counts the call in (always); Allowed when what the window held before, plus this cost, fits the limit.</summary>
    public (bool Allowed, double Used, TimeSpan UntilFree) Spend(double cost, double limit, TimeSpan window, DateTimeOffset now)
    {
        while (_window.Count > 0 && now - _window.Peek().At >= window) _sum -= _window.Dequeue().Cost;
        var allowed = _sum + cost <= limit;
        var untilFree = TimeSpan.Zero;
        if (!allowed)
        {
            // The oldest entries leave first: walk until what is left plus this cost fits.
            var left = _sum;
            foreach (var (at, c) in _window)
            {
                left -= c;
                if (left + cost <= limit)
                {
                    untilFree = at + window - now;
                    break;
                }
            }
            if (untilFree <= TimeSpan.Zero) untilFree = window;
        }
        else if (_window.Count > 0) untilFree = _window.Peek().At + window - now;
        _window.Enqueue((now, cost));
        _sum += cost;
        return (allowed, _sum, untilFree < TimeSpan.Zero ? TimeSpan.Zero : untilFree);
    }
}

/// <summary>Which ceiling answered a call 429.</summary>
public enum CeilingKind { AppResourceUnits, PeopleManagerCalls, UserRequests }

/// <summary>
/// SharePoint's three ceilings (facts doc section 5), each off while its limit is 0: per-app resource
/// units a window (REST 2 RU; Graph calls of the same app at their fixed cost), the tenant's
/// PeopleManager calls a window, and requests of each signed-in user (delegated tokens) a window.
/// </summary>
public sealed class ServiceCeilings
{
    private readonly object _gate = new();
    private readonly SlidingWindow _app = new();
    private readonly SlidingWindow _peopleManager = new();
    private readonly Dictionary<string, SlidingWindow> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly int[] _hits = new int[3];

    public int Hits(CeilingKind kind) => Volatile.Read(ref _hits[(int)kind]);

    public void Reset()
    {
        lock (_gate)
        {
            _app.Reset();
            _peopleManager.Reset();
            _users.Clear();
        }
    }

    /// <summary>A Graph call of the app: counted at its fixed cost, never refused here (Graph has limits of its own).</summary>
    public void SpendGraph(Scenario s, double cost, DateTimeOffset now)
    {
        if (s.AppResourceUnitsPerWindow <= 0 || !s.AppUnitsCountGraph) return;
        lock (_gate) _app.Spend(cost, s.AppResourceUnitsPerWindow, TimeSpan.FromSeconds(s.AppWindowSeconds), now);
    }

    /// <summary>
    /// Counts a SharePoint call against every ceiling that is on. Refused: which ceiling, and the
    /// Retry-After (seconds until the window frees, the longest over the ceilings refused, × the scale).
    /// RateLimit: the per-app figures, only above 80% of that limit.
    /// </summary>
    public Verdict Spend(Scenario s, bool peopleManager, string? user, DateTimeOffset now)
    {
        var verdict = new Verdict();
        lock (_gate)
        {
            if (s.AppResourceUnitsPerWindow > 0)
            {
                var (ok, used, until) = _app.Spend(2, s.AppResourceUnitsPerWindow, TimeSpan.FromSeconds(s.AppWindowSeconds), now);
                if (!ok) verdict.Refuse(CeilingKind.AppResourceUnits, until);
                if (used * 5 >= s.AppResourceUnitsPerWindow * 4)
                    verdict.RateLimit = (s.AppResourceUnitsPerWindow, Math.Max(0, s.AppResourceUnitsPerWindow - used), Math.Max(1, (int)Math.Ceiling(until.TotalSeconds)));
            }
            if (peopleManager && s.PeopleManagerCallsPerWindow > 0)
            {
                var (ok, _, until) = _peopleManager.Spend(1, s.PeopleManagerCallsPerWindow, TimeSpan.FromSeconds(s.PeopleManagerWindowSeconds), now);
                if (!ok) verdict.Refuse(CeilingKind.PeopleManagerCalls, until);
            }
            if (user is not null && s.UserRequestsPerWindow > 0)
            {
                if (!_users.TryGetValue(user, out var window)) _users[user] = window = new SlidingWindow();
                var (ok, _, until) = window.Spend(1, s.UserRequestsPerWindow, TimeSpan.FromSeconds(s.UserWindowSeconds), now);
                if (!ok) verdict.Refuse(CeilingKind.UserRequests, until);
            }
        }
        if (verdict.Refused is { } kind) Interlocked.Increment(ref _hits[(int)kind]);
        verdict.RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(verdict.UntilFree.TotalSeconds * s.RetryAfterScale));
        return verdict;
    }

    public sealed class Verdict
    {
        public CeilingKind? Refused { get; private set; }
        public TimeSpan UntilFree { get; private set; }
        public int RetryAfterSeconds { get; set; }
        public (double Limit, double Remaining, int Reset)? RateLimit { get; set; }

        public void Refuse(CeilingKind kind, TimeSpan until)
        {
            if (Refused is null || until > UntilFree) (Refused, UntilFree) = (kind, until);
        }
    }
}
