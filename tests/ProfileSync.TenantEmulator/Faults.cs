using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ProfileSync.TenantEmulator;

/// <summary>Failures the emulator injects (issue 5): a share of requests, chosen by a seeded hash, answers badly.</summary>
public sealed class FaultPlan
{
    public int Seed { get; set; } = 1;
    /// <summary>Share of requests that meet a fault (0 to 1).</summary>
    public double Rate { get; set; }
    /// <summary>
    /// throttle (429 + Retry-After), throttle-no-retry-after (503 without it), server-error (500),
    /// reset (connection dropped before an answer), reset-upload (dropped halfway through an upload's
    /// body; nothing stored), profile-write-error (500 from SetSingleValueProfileProperty), timeout (no
    /// answer at all until the client gives up or <see cref="TimeoutSeconds"/> pass, then dropped).
    /// </summary>
    public List<string> Kinds { get; set; } = new() { "throttle", "throttle-no-retry-after", "server-error", "reset", "reset-upload", "profile-write-error", "timeout" };
    /// <summary>Retry-After of an injected throttle, in seconds.</summary>
    public int RetryAfterSeconds { get; set; } = 1;
    /// <summary>Faults only for the first N times the same request is seen (a storm that passes); null: every time the hash says so.</summary>
    public int? OnlyFirst { get; set; }
    /// <summary>How long an injected timeout holds a request the client has not given up on.</summary>
    public int TimeoutSeconds { get; set; } = 120;
}

/// <summary>
/// Decides per request whether and which fault to inject. Keyed by the request itself (method, target)
/// and how often that same request was seen, never by arrival order: the same run with the same seed
/// meets the same faults however its requests interleave.
/// </summary>
public sealed class FaultInjector
{
    private readonly ConcurrentDictionary<string, int> _seen = new();
    private int _injected;

    private readonly ConcurrentDictionary<string, int> _byKind = new();

    public int Injected => Volatile.Read(ref _injected);
    /// <summary>Faults injected so far, by kind.</summary>
    public IReadOnlyDictionary<string, int> ByKind => new Dictionary<string, int>(_byKind);

    public string? Decide(FaultPlan? plan, string service, string method, string target, bool isUpload, bool isProfileWrite)
    {
        if (plan is null || plan.Rate <= 0 || plan.Kinds.Count == 0) return null;
        var key = $"{service} {method} {target}";
        var occurrence = _seen.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (plan.OnlyFirst is int first && occurrence > first) return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{plan.Seed}|{key}|{occurrence}"));
        var roll = BitConverter.ToUInt32(hash, 0) / (double)uint.MaxValue;
        if (roll >= plan.Rate) return null;
        var applicable = plan.Kinds.Where(k => k switch
        {
            "reset-upload" => isUpload,
            "profile-write-error" => isProfileWrite,
            "throttle-no-retry-after" => service != "graph",
            _ => true,
        }).ToList();
        if (applicable.Count == 0) return null;
        Interlocked.Increment(ref _injected);
        var kind = applicable[(int)(BitConverter.ToUInt32(hash, 4) % (uint)applicable.Count)];
        _byKind.AddOrUpdate(kind, 1, (_, n) => n + 1);
        return kind;
    }
}

/// <summary>
/// A refusal that starts mid-run: once armed, the next N requests it is asked about pass, then every
/// one is refused until disarmed. A service's tokens revoked (control POST /tokens/reject: 401), or the
/// right to write other users' profiles withdrawn (POST /rights).
/// </summary>
public sealed class ArmedRefusal
{
    private long _remaining = long.MaxValue; // passes left; MaxValue: not armed

    public void Arm(int after) => Interlocked.Exchange(ref _remaining, Math.Max(0, after));
    public void Disarm() => Interlocked.Exchange(ref _remaining, long.MaxValue);

    /// <summary>Whether this request is refused (counts the request as one of the N that pass).</summary>
    public bool Rejects()
    {
        while (true)
        {
            var left = Interlocked.Read(ref _remaining);
            if (left == long.MaxValue) return false;
            if (left == 0) return true;
            if (Interlocked.CompareExchange(ref _remaining, left - 1, left) == left) return false;
        }
    }
}
