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
