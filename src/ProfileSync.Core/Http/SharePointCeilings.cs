using System.Globalization;
using System.Text.Json;

namespace ProfileSync.Core.Http;

/// <summary>The tenant's licence band, which sets SharePoint's per-app and PeopleManager ceilings (facts doc, section 5).</summary>
public enum TenantSizeBand
{
    /// <summary>0 to 1,000 licences (the smallest ceilings; what ProfileSync assumes when it cannot tell).</summary>
    UpTo1000,
    /// <summary>1,001 to 5,000 licences.</summary>
    UpTo5000,
    /// <summary>5,001 to 15,000 licences.</summary>
    UpTo15000,
    /// <summary>15,001 to 50,000 licences.</summary>
    UpTo50000,
    /// <summary>More than 50,000 licences.</summary>
    Over50000,
}

/// <summary>Which of SharePoint's three ceilings a pacer wait was for.</summary>
public enum SharePointCeiling
{
    None,
    /// <summary>Per app, per tenant, per minute, in resource units (REST estimated at 2 RU a call).</summary>
    AppResourceUnits,
    /// <summary>Tenant-wide SP.UserProfiles.PeopleManager calls per 5 minutes, shared with every other app.</summary>
    PeopleManagerCalls,
    /// <summary>Per user (delegated sign-in): requests per 5 minutes.</summary>
    UserRequests,
}

/// <summary>
/// What the pacer plans under: SharePoint's three ceilings for one connection (facts doc, section 5).
/// Windows are settable so tests can scale them down; the service's are 1 minute and 5 minutes.
/// </summary>
public sealed record SharePointCeilings
{
    /// <summary>Per-app resource units a window (service: 1,250 to 6,250 a minute by band). 0: not modelled.</summary>
    public double AppResourceUnits { get; init; }
    public TimeSpan AppWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>The tenant's PeopleManager calls a window, all apps together (service: 3,000 to 15,000 per 5 minutes). 0: not modelled.</summary>
    public double PeopleManagerCalls { get; init; }
    public TimeSpan PeopleManagerWindow { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>The part of the tenant's PeopleManager ceiling ProfileSync may spend, so other apps keep working (0.05 to 1).</summary>
    public double PeopleManagerShare { get; init; } = 0.5;
    /// <summary>Requests a window of the signed-in user (delegated sign-in only; service: 3,000 per 5 minutes). 0: app-only, not modelled.</summary>
    public double UserRequests { get; init; }
    public TimeSpan UserWindow { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Estimated resource units of one SharePoint REST call (no published cost; "usually more" than Graph's).</summary>
    public double RestCost { get; init; } = 2;
    /// <summary>The part of each shared ceiling (PeopleManager, the signed-in user's) the pacer plans to reach; the rest absorbs clock skew, latency jitter and the user's own browsing.</summary>
    public double Headroom { get; init; } = 0.9;
    /// <summary>
    /// The part of the per-app ceiling the pacer plans to reach. That ceiling is ProfileSync's app's own
    /// (no other app spends it), so only clock skew and jitter need room: 95 %.
    /// </summary>
    public double AppHeadroom { get; init; } = 0.95;
    /// <summary>The band the figures came from, when they came from one.</summary>
    public TenantSizeBand? Band { get; init; }

    public const double DefaultPeopleManagerShare = 0.5;
    public const int UserRequestsPerFiveMinutes = 3000;

    /// <summary>The service's figures for a band (facts doc section 5, sp-dev-docs 2025-10).</summary>
    public static SharePointCeilings For(TenantSizeBand band, bool delegated, double peopleManagerShare = DefaultPeopleManagerShare)
    {
        var step = (int)band + 1; // 1..5
        return new SharePointCeilings
        {
            Band = band,
            AppResourceUnits = 1250 * step,
            PeopleManagerCalls = 3000 * step,
            PeopleManagerShare = ValidShare(peopleManagerShare),
            UserRequests = delegated ? UserRequestsPerFiveMinutes : 0,
        };
    }

    public static double ValidShare(double share) =>
        share is >= 0.05 and <= 1.0 ? share : throw new ArgumentOutOfRangeException(nameof(share), share, "The PeopleManager share is between 0.05 and 1.0.");

    /// <summary>The band of a licence count: 0-1,000, 1,001-5,000, 5,001-15,000, 15,001-50,000, more.</summary>
    public static TenantSizeBand BandOf(long licences) => licences switch
    {
        <= 1000 => TenantSizeBand.UpTo1000,
        <= 5000 => TenantSizeBand.UpTo5000,
        <= 15000 => TenantSizeBand.UpTo15000,
        <= 50000 => TenantSizeBand.UpTo50000,
        _ => TenantSizeBand.Over50000,
    };

    /// <summary>What the pacer plans to spend of each ceiling a window: the ceiling × headroom (× the share, for PeopleManager).</summary>
    public double AppBudget => AppResourceUnits * AppHeadroom;
    public double PeopleManagerBudget => PeopleManagerCalls * PeopleManagerShare * Headroom;
    public double UserBudget => UserRequests * Headroom;

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        if (AppResourceUnits > 0) parts.Add(string.Format(c, "app {0:N0} RU per {1}", AppResourceUnits, Window(AppWindow)));
        if (PeopleManagerCalls > 0) parts.Add(string.Format(c, "PeopleManager {0:N0} calls per {1} (tenant-wide; ProfileSync's share {2:P0})", PeopleManagerCalls, Window(PeopleManagerWindow), PeopleManagerShare));
        if (UserRequests > 0) parts.Add(string.Format(c, "user {0:N0} requests per {1}", UserRequests, Window(UserWindow)));
        return (Band is { } b ? b + ": " : "") + (parts.Count == 0 ? "none" : string.Join("; ", parts));
    }

    internal static string Window(TimeSpan window) =>
        window.TotalSeconds % 60 == 0 ? (window.TotalMinutes == 1 ? "minute" : $"{window.TotalMinutes:0} min") : $"{window.TotalSeconds:0.#} s";
}

/// <summary>The licence count from Graph GET /subscribedSkus (Organization.Read.All), or why it could not be read.</summary>
public sealed record TenantLicences(long? Count, TenantSizeBand Band, string? Warning)
{
    /// <summary>
    /// Sums prepaidUnits.enabled over the SKUs that are assignable to users (appliesTo User), active
    /// (capabilityStatus Enabled or Warning) and carry a SharePoint service plan: free/viral SKUs
    /// (e.g. Power BI free, 1,000,000 "enabled" units) would otherwise pick a band far too large.
    /// When no SKU names its service plans, every active user SKU counts.
    /// </summary>
    public static long CountFrom(string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("value", out var skus) || skus.ValueKind != JsonValueKind.Array) return 0;
        long withSharePoint = 0, allActive = 0;
        var anyPlans = false;
        foreach (var sku in skus.EnumerateArray())
        {
            if (Text(sku, "appliesTo") is { } applies && !applies.Equals("User", StringComparison.OrdinalIgnoreCase)) continue;
            if (Text(sku, "capabilityStatus") is { } status && !(status.Equals("Enabled", StringComparison.OrdinalIgnoreCase) || status.Equals("Warning", StringComparison.OrdinalIgnoreCase))) continue;
            long enabled = 0;
            if (sku.TryGetProperty("prepaidUnits", out var prepaid) && prepaid.ValueKind == JsonValueKind.Object
                && prepaid.TryGetProperty("enabled", out var e) && e.TryGetInt64(out var n)) enabled = n;
            else if (sku.TryGetProperty("consumedUnits", out var consumed) && consumed.TryGetInt64(out var used)) enabled = used;
            allActive += enabled;
            if (sku.TryGetProperty("servicePlans", out var plans) && plans.ValueKind == JsonValueKind.Array && plans.GetArrayLength() > 0)
            {
                anyPlans = true;
                if (plans.EnumerateArray().Any(p => Text(p, "servicePlanName")?.StartsWith("SHAREPOINT", StringComparison.OrdinalIgnoreCase) == true))
                    withSharePoint += enabled;
            }
        }
        return anyPlans ? withSharePoint : allActive;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Reads /subscribedSkus through the pipeline; refused (403) or failing: the smallest band, and a warning saying so.</summary>
    public static async Task<TenantLicences> ReadAsync(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints, CancellationToken cancellationToken)
    {
        const string fallback = "The pacer assumes the smallest band (0-1,000 licences: 1,250 RU a minute, 3,000 PeopleManager calls per 5 minutes); give -TenantSize to use the tenant's.";
        try
        {
            using var response = await pipeline.Client.GetAsync(endpoints.GraphBaseUrl + "/subscribedSkus?$select=skuPartNumber,appliesTo,capabilityStatus,prepaidUnits,consumedUnits,servicePlans", cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is 401 or 403)
                return new(null, TenantSizeBand.UpTo1000, $"The licence count could not be read (Graph /subscribedSkus answered {status}; it needs Organization.Read.All). {fallback}");
            if (!response.IsSuccessStatusCode)
                return new(null, TenantSizeBand.UpTo1000, $"The licence count could not be read (Graph /subscribedSkus answered {status}). {fallback}");
            var count = CountFrom(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return new(count, SharePointCeilings.BandOf(count), null);
        }
        catch (Exception ex) when (ex is JsonException or HttpRequestException or ProfileSyncException)
        {
            return new(null, TenantSizeBand.UpTo1000, $"The licence count could not be read ({ex.Message}). {fallback}");
        }
    }
}
