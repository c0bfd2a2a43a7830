using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProfileSync.TenantEmulator;

/// <summary>
/// A tenant to emulate, read from a JSON file: users, their Exchange photos, their SharePoint
/// profiles and thumbnails, the photo folder's language, and which service limits are switched on.
/// </summary>
public sealed class Scenario
{
    public string Tenant { get; set; } = "contoso";
    /// <summary>Name of the photo folder in the User Photos library; follows the My Site language.</summary>
    public string PhotoFolder { get; set; } = "Profile Pictures";
    public string? GraphToken { get; set; }
    public string? SharePointToken { get; set; }
    /// <summary>Delay added to every request, in milliseconds.</summary>
    public int LatencyMs { get; set; }
    /// <summary>Graph photo calls in flight for one mailbox before 429 (documented: 4). 0 switches the limit off.</summary>
    public int GraphMailboxConcurrency { get; set; } = 4;
    public int GraphRetryAfterSeconds { get; set; } = 1;
    /// <summary>SharePoint requests per minute across the tenant's hosts before 429/503. 0 switches the budget off.</summary>
    public int SharePointRequestsPerMinute { get; set; }
    /// <summary>429 or 503: what SharePoint answers over budget.</summary>
    public int SharePointThrottleStatus { get; set; } = 429;
    // SharePoint's three ceilings (facts doc section 5), each off while 0; windows are in seconds so tests can scale them down.
    /// <summary>Per-app resource units a window (service: 1,250-6,250 a minute by licence band); REST calls cost 2. 0: off.</summary>
    public double AppResourceUnitsPerWindow { get; set; }
    public double AppWindowSeconds { get; set; } = 60;
    /// <summary>Graph calls (all tokens of a scenario are one app) also spend the per-app budget at their fixed cost (1 item/download, 2 list/write).</summary>
    public bool AppUnitsCountGraph { get; set; } = true;
    /// <summary>The tenant's SP.UserProfiles.PeopleManager calls a window (service: 3,000-15,000 per 5 minutes). 0: off.</summary>
    public double PeopleManagerCallsPerWindow { get; set; }
    public double PeopleManagerWindowSeconds { get; set; } = 300;
    /// <summary>SharePoint requests of one signed-in user (delegated tokens) a window (service: 3,000 per 5 minutes). 0: off.</summary>
    public double UserRequestsPerWindow { get; set; }
    public double UserWindowSeconds { get; set; } = 300;
    /// <summary>Retry-After over a ceiling = seconds until its window frees × this (tests: below 1 to run fast).</summary>
    public double RetryAfterScale { get; set; } = 1;
    /// <summary>"app" (default: the scenario's tokens are app-only) or "delegated" (they are SignedInUser's: JWT-shaped, idtyp user, scp).</summary>
    public string TokenKind { get; set; } = "app";
    /// <summary>Whose tokens the delegated ones are; default admin@TENANT.onmicrosoft.com.</summary>
    public string? SignedInUser { get; set; }
    /// <summary>Licences Graph /subscribedSkus reports (one SharePoint-bearing SKU plus a free one that must not count).</summary>
    public int Licences { get; set; } = 500;
    /// <summary>True: /subscribedSkus answers 403 (no Organization.Read.All).</summary>
    public bool SubscribedSkusForbidden { get; set; }
    /// <summary>How a missing profile is answered: "odata-null" or "empty-object" (both seen, facts doc section 3).</summary>
    public string MissingProfileAnswer { get; set; } = "odata-null";
    /// <summary>
    /// Whether the sign-in may write other users' profiles (SetSingleValueProfileProperty on the admin
    /// site): "allowed"; "403" (app-only without SharePoint User.ReadWrite.All: -2147024891,
    /// System.UnauthorizedAccessException); "500" (delegated admins and managed identities in some
    /// tenants: Microsoft.SharePoint.SPException "...managing your own data..."). Control: POST /rights.
    /// </summary>
    public string ProfileWriteRights { get; set; } = "allowed";
    /// <summary>
    /// The list view threshold of a folder (0: off). Reports (facts doc, section 5b) name Files/add into
    /// folders above it as failing with 500 SPQueryThrottledException; ProfileSync adds by path
    /// (AddUsingPath), whose behaviour there is unconfirmed, so the threshold meets AddUsingPath only when
    /// <see cref="ThresholdOnAddUsingPath"/> says so (the tests of ProfileSync's handling turn it on).
    /// </summary>
    public int FolderItemThreshold { get; set; }
    public bool ThresholdOnAddUsingPath { get; set; }
    /// <summary>Whether the sign-in may add and recycle files on the My Site host; false answers 403 Access denied.</summary>
    public bool UploadAllowed { get; set; } = true;
    /// <summary>
    /// SharePoint People search (facts doc 5a): "allowed" (answers from the index snapshot); "refused" (403
    /// -2147024891 System.UnauthorizedAccessException "Access denied..."); "empty" (200 with no rows: app-only
    /// people search failing silently, as reported in some tenants, sp-dev-docs 10246, pnp/powershell 5014).
    /// Control: POST /search?mode=...
    /// </summary>
    public string PeopleSearch { get; set; } = "allowed";
    /// <summary>Whether Graph's photo endpoints answer; false answers 403 ErrorAccessDenied to every token (control: POST /rights?graphPhoto=refused).</summary>
    public bool GraphPhotoAllowed { get; set; } = true;
    public List<ScenarioUser> Users { get; set; } = new();
    public Population? Population { get; set; }
    /// <summary>Managed identities that may get tokens from the identity endpoint; none listed: one system-assigned with full rights.</summary>
    public List<EmulatedIdentity> ManagedIdentities { get; set; } = new();
    /// <summary>Injected failures; none unless given.</summary>
    public FaultPlan? Faults { get; set; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static Scenario Load(string path) => Parse(File.ReadAllText(path));

    public static Scenario Parse(string json) =>
        JsonSerializer.Deserialize<Scenario>(json, Json) ?? throw new InvalidDataException("Empty scenario.");

    /// <summary>Explicit users plus the generated population, in a stable order.</summary>
    public IEnumerable<ScenarioUser> AllUsers()
    {
        foreach (var u in Users) yield return u;
        if (Population is null || Population.Count <= 0) yield break;
        var kinds = Population.Mix.Count > 0 ? Population.Mix : new List<string> { SharePointSeed.SyncedBySharePoint };
        for (var i = 0; i < Population.Count; i++)
        {
            var kind = kinds[i % kinds.Count];
            var upn = string.Format(CultureInfo.InvariantCulture, Population.UpnFormat, i + 1);
            var user = new ScenarioUser
            {
                Upn = upn,
                Photo = kind is SharePointSeed.NoExchangePhoto ? null : new PhotoSpec { Seed = Population.Seed + i, Width = Population.PhotoSize, Height = Population.PhotoSize },
                NoPhoto = kind is SharePointSeed.NoExchangePhoto ? "ImageNotFound" : null,
                SharePoint = kind is SharePointSeed.NoExchangePhoto ? SharePointSeed.None : kind,
                // Spread evenly: user i is hidden when the running share crosses a whole number there.
                HiddenFromAddressList = Population.HiddenFromAddressListShare > 0
                    && Math.Floor((i + 1) * Population.HiddenFromAddressListShare) > Math.Floor(i * Population.HiddenFromAddressListShare),
            };
            yield return user;
        }
    }
}

public sealed class Population
{
    public int Count { get; set; }
    public string UpnFormat { get; set; } = "user{0:00000}@contoso.com";
    public int Seed { get; set; } = 1000;
    /// <summary>SharePoint seed kinds, assigned round-robin (see <see cref="SharePointSeed"/>).</summary>
    public List<string> Mix { get; set; } = new();
    /// <summary>Side of the generated Exchange photos; smaller ones make large test tenants cheap to emulate.</summary>
    public int PhotoSize { get; set; } = 648;
    /// <summary>Share (0 to 1) of the generated users hidden from the address list, spread evenly: missing from People search.</summary>
    public double HiddenFromAddressListShare { get; set; }
}

public sealed class ScenarioUser
{
    public string Upn { get; set; } = "";
    /// <summary>The profile's PreferredName; the UPN's name part when not given.</summary>
    public string? DisplayName { get; set; }
    /// <summary>Entra object id; derived from the UPN when not given.</summary>
    public string? Id { get; set; }
    public PhotoSpec? Photo { get; set; }
    /// <summary>When there is no photo: ImageNotFound, ErrorItemNotFound, ErrorEntityNotFound, ConsumerPhotoIsNotSupported, or gif1x1.</summary>
    public string? NoPhoto { get; set; }
    /// <summary>False: Graph knows no such user (404 Request_ResourceNotFound).</summary>
    public bool InGraph { get; set; } = true;
    /// <summary>False: no Exchange mailbox (mail is null), so -All does not list the user.</summary>
    public bool Mailbox { get; set; } = true;
    /// <summary>Graph's accountEnabled: false for leavers and, unless someone enabled them, shared, room and equipment mailboxes.</summary>
    public bool AccountEnabled { get; set; } = true;
    /// <summary>Graph's userType: "Member" or "Guest".</summary>
    public string UserType { get; set; } = "Member";
    /// <summary>What SharePoint holds for the user: one of <see cref="SharePointSeed"/>.</summary>
    public string SharePoint { get; set; } = SharePointSeed.None;
    /// <summary>Hidden from the address list (Exchange): SharePoint People search does not find the user (facts doc 5a).</summary>
    public bool HiddenFromAddressList { get; set; }
}

public sealed class PhotoSpec
{
    public int Seed { get; set; }
    public int Width { get; set; } = 648;
    public int Height { get; set; } = 648;
    /// <summary>0: the photo itself; 1: a similar but different photo of the same person (other shirt, glasses).</summary>
    public int Variant { get; set; }
    /// <summary>jpeg or png.</summary>
    public string Format { get; set; } = "jpeg";
}

/// <summary>The SharePoint states a scenario can seed.</summary>
public static class SharePointSeed
{
    public const string None = "none";                              // profile, no PictureURL, placeholder 1
    public const string SyncedBySharePoint = "synced-by-sharepoint"; // SharePoint's own thumbnails of the current photo (legacy name prefix)
    public const string SyncedObjectId = "synced-objectid";         // same, object-id prefix
    public const string Stale = "stale";                            // thumbnails of an older, different photo
    public const string Similar = "similar";                        // thumbnails of a similar but different photo
    public const string PlaceholderWithUrl = "placeholder-with-url"; // PictureURL and files present, placeholder 1
    public const string MissingFile = "missing-file";               // PictureURL set, files gone
    public const string OutsideTenant = "outside-tenant";           // PictureURL on a foreign host
    public const string NoProfile = "no-profile";                   // no SharePoint profile
    public const string NoExchangePhoto = "no-exchange-photo";      // population only: Exchange has no photo
}
