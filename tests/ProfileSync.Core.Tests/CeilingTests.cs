using ProfileSync.Core.SignIn;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using Xunit.Abstractions;
using SyncStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Sync.UserCheck, ProfileSync.Core.Sync.PhotoSyncResult>;
using CheckStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Runs.NoPending, ProfileSync.Core.Sync.PhotoSyncState>;

namespace ProfileSync.Core.Tests;

/// <summary>The pacer's arithmetic of SharePoint's three ceilings (issue 12), on a fake clock.</summary>
public class CeilingPacerTests
{
    private static (SharePointPacer Pacer, FakeTimeProvider Time) Pacer(SharePointCeilings ceilings)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var pacer = new SharePointPacer(initialConcurrency: 1000, maxConcurrency: 1000, time);
        pacer.SetCeilings(ceilings);
        return (pacer, time);
    }

    /// <summary>Starts <paramref name="count"/> requests as early as the pacer lets them, one after another; their start times.</summary>
    private static Task<List<DateTimeOffset>> StartAll(SharePointPacer pacer, FakeTimeProvider time, int count, Func<int, bool> peopleManager)
    {
        var starts = new List<DateTimeOffset>();
        for (var i = 0; i < count; i++)
        {
            IDisposable? lease;
            while ((lease = pacer.TryStart(peopleManager(i), out var wait)) is null) time.Advance(wait);
            lease.Dispose();
            starts.Add(time.GetUtcNow());
        }
        return Task.FromResult(starts);
    }

    private static int MostInAnyWindow(IReadOnlyList<DateTimeOffset> starts, TimeSpan window)
    {
        var most = 0;
        for (int i = 0, j = 0; i < starts.Count; i++)
        {
            while (starts[i] - starts[j] >= window) j++;
            most = Math.Max(most, i - j + 1);
        }
        return most;
    }

    [Fact]
    public void The_bands_give_the_documented_ceilings()
    {
        var small = SharePointCeilings.For(TenantSizeBand.UpTo1000, delegated: false);
        Assert.Equal((1250d, 3000d, 0.5, 0d), (small.AppResourceUnits, small.PeopleManagerCalls, small.PeopleManagerShare, small.UserRequests));
        var mid = SharePointCeilings.For(TenantSizeBand.UpTo15000, delegated: true, peopleManagerShare: 0.25);
        Assert.Equal((3750d, 9000d, 0.25, 3000d), (mid.AppResourceUnits, mid.PeopleManagerCalls, mid.PeopleManagerShare, mid.UserRequests));
        var big = SharePointCeilings.For(TenantSizeBand.Over50000, delegated: false);
        Assert.Equal((6250d, 15000d), (big.AppResourceUnits, big.PeopleManagerCalls));
        Assert.Equal((TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)), (big.AppWindow, big.PeopleManagerWindow, big.UserWindow));
        Assert.Equal(15000 * 0.5 * 0.9, big.PeopleManagerBudget);
        Assert.Equal(6250 * 0.95, big.AppBudget); // the app's own ceiling: only skew and jitter need room

        Assert.Equal(TenantSizeBand.UpTo1000, SharePointCeilings.BandOf(0));
        Assert.Equal(TenantSizeBand.UpTo1000, SharePointCeilings.BandOf(1000));
        Assert.Equal(TenantSizeBand.UpTo5000, SharePointCeilings.BandOf(1001));
        Assert.Equal(TenantSizeBand.UpTo15000, SharePointCeilings.BandOf(15000));
        Assert.Equal(TenantSizeBand.UpTo50000, SharePointCeilings.BandOf(15001));
        Assert.Equal(TenantSizeBand.Over50000, SharePointCeilings.BandOf(50001));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharePointCeilings.For(TenantSizeBand.UpTo1000, false, 0.01));
    }

    [Fact]
    public void Least_time_is_the_slowest_bucket_for_the_work()
    {
        // Smallest band, app-only: PeopleManager E = 3,000 × 0.5 × 0.9 = 1,350 per 300 s, B = 67.5, r = 1,282.5 / 300 = 4.275/s;
        // app (its own ceiling, headroom 0.95) E = 1,250 × 0.95 = 1,187.5 RU per 60 s, B = 59.375, r = 1,128.125 / 60 RU/s.
        var (pacer, _) = Pacer(SharePointCeilings.For(TenantSizeBand.UpTo1000, delegated: false));
        Assert.Equal((1000 - 67.5) / 4.275, pacer.LeastTimeFor(peopleManagerCalls: 1000, otherSharePointRequests: 0).TotalSeconds, 3);
        // 2,000 other requests: 4,000 RU on the app bucket: (4,000 - 59.375) / (1,128.125 / 60) s.
        Assert.Equal((4000 - 59.375) / (1128.125 / 60), pacer.LeastTimeFor(0, 2000).TotalSeconds, 3);
        Assert.Equal(TimeSpan.Zero, pacer.LeastTimeFor(10, 10));

        // Delegated, big band: the user's 3,000 per 5 min (E 2,700, B 135, r 8.55/s) binds the non-profile requests.
        var (delegated, _) = Pacer(SharePointCeilings.For(TenantSizeBand.Over50000, delegated: true));
        Assert.Equal((1000 - 135) / 8.55, delegated.LeastTimeFor(0, 1000).TotalSeconds, 3);
    }

    [Fact]
    public async Task PeopleManager_calls_never_exceed_the_share_in_any_window_and_run_at_the_planned_rate()
    {
        // Scaled: 100 calls per 10 s, share 0.5, headroom 0.9: E = 45, B = 2.25, r = 4.275/s.
        var ceilings = new SharePointCeilings { PeopleManagerCalls = 100, PeopleManagerWindow = TimeSpan.FromSeconds(10), PeopleManagerShare = 0.5 };
        var (pacer, time) = Pacer(ceilings);
        var t0 = time.GetUtcNow();
        var starts = await StartAll(pacer, time, 200, _ => true);
        Assert.True(MostInAnyWindow(starts, TimeSpan.FromSeconds(10)) <= 45, $"most in a window: {MostInAnyWindow(starts, TimeSpan.FromSeconds(10))}");
        var elapsed = (starts[^1] - t0).TotalSeconds;
        Assert.InRange(elapsed, (200 - 2.25 - 1) / 4.275, (200 - 2.25) / 4.275 + 1);
        Assert.Equal(SharePointCeiling.PeopleManagerCalls, pacer.LastBinding.Ceiling);
        Assert.Contains("PeopleManager calls", pacer.BindingCeiling);

        // Other SharePoint requests do not spend the PeopleManager bucket: they start at once.
        var other = await StartAll(pacer, time, 50, _ => false);
        Assert.Equal(starts[^1], other[^1]);
    }

    [Fact]
    public async Task Rest_calls_cost_2_RU_and_Graph_calls_spend_the_same_app_budget()
    {
        // 200 RU per 10 s, the app's own ceiling at headroom 0.95: E = 190, B = 9.5, r = 18.05 RU/s; a REST call is 2 RU.
        var (pacer, time) = Pacer(new SharePointCeilings { AppResourceUnits = 200, AppWindow = TimeSpan.FromSeconds(10) });
        var t0 = time.GetUtcNow();
        var starts = await StartAll(pacer, time, 100, _ => false);
        Assert.True(MostInAnyWindow(starts, TimeSpan.FromSeconds(10)) <= 95);
        Assert.InRange((starts[^1] - t0).TotalSeconds, (200 - 9.5 - 2) / 18.05, (200 - 9.5) / 18.05 + 1);

        // Graph spends without waiting; the next SharePoint request waits for what it took.
        time.Advance(TimeSpan.FromSeconds(60));
        pacer.SpendGraph(9.5 + 18.05); // the whole bucket and one second more
        Assert.Equal(1 + 2 / 18.05, pacer.CeilingWait(false, time.GetUtcNow(), out var which).TotalSeconds, 3);
        Assert.Equal(SharePointCeiling.AppResourceUnits, which);
    }

    [Fact]
    public async Task A_delegated_connection_is_held_to_the_users_requests_and_an_app_only_one_is_not()
    {
        var perUser = new SharePointCeilings { UserRequests = 60, UserWindow = TimeSpan.FromSeconds(10) }; // E 54, B 2.7, r 5.13/s
        var (pacer, time) = Pacer(perUser);
        var starts = await StartAll(pacer, time, 120, i => i % 2 == 0);
        Assert.True(MostInAnyWindow(starts, TimeSpan.FromSeconds(10)) <= 54);
        Assert.Equal(SharePointCeiling.UserRequests, pacer.LastBinding.Ceiling);
        Assert.Contains("signed-in user", pacer.BindingCeiling);

        var (appOnly, appTime) = Pacer(SharePointCeilings.For(TenantSizeBand.Over50000, delegated: false));
        var t0 = appTime.GetUtcNow();
        var fast = await StartAll(appOnly, appTime, 120, _ => false);
        Assert.Equal(t0, fast[^1]); // within the app bucket's burst (281 RU): no wait
        Assert.StartsWith("none binding now", appOnly.BindingCeiling);
    }

    [Fact]
    public void A_429_still_pauses_every_request_with_the_ceilings_on()
    {
        var (pacer, time) = Pacer(SharePointCeilings.For(TenantSizeBand.UpTo1000, delegated: false));
        var r = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(120));
        pacer.Observe(r);
        Assert.Equal(120, pacer.WaitBeforeStart(time.GetUtcNow()).TotalSeconds, 1);
        Assert.StartsWith("throttled", pacer.BindingCeiling);
    }

    private static string Jwt(string payload) =>
        "eyJhbGciOiJub25lIn0." + Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_') + ".sig";

    [Fact]
    public void Token_claims_and_sign_in_methods_tell_delegated_from_app_only()
    {
        Assert.Equal(SignInKind.Delegated, SignInKinds.OfAccessToken(Jwt("""{"idtyp":"user","scp":"AllSites.FullControl"}""")));
        Assert.Equal(SignInKind.Delegated, SignInKinds.OfAccessToken(Jwt("""{"scp":"AllSites.FullControl"}""")));
        Assert.Equal(SignInKind.AppOnly, SignInKinds.OfAccessToken(Jwt("""{"idtyp":"app","roles":["Sites.FullControl.All"]}""")));
        Assert.Equal(SignInKind.AppOnly, SignInKinds.OfAccessToken(Jwt("""{"roles":["Sites.FullControl.All"]}""")));
        Assert.Equal(SignInKind.Unknown, SignInKinds.OfAccessToken("opaque-token"));
        Assert.Equal(SignInKind.Unknown, SignInKinds.OfAccessToken("a.!!!.c"));
        Assert.Equal(SignInKind.Delegated, SignInKinds.Of(SignInMethod.Interactive));
        Assert.Equal(SignInKind.Delegated, SignInKinds.Of(SignInMethod.DeviceCode));
        Assert.Equal(SignInKind.AppOnly, SignInKinds.Of(SignInMethod.Certificate));
        Assert.Equal(SignInKind.AppOnly, SignInKinds.Of(SignInMethod.ManagedIdentity));
        Assert.Equal(SignInKind.Unknown, SignInKinds.Of(SignInMethod.AccessToken));
    }

    [Fact]
    public void The_licence_count_sums_enabled_units_of_active_user_SKUs_with_SharePoint()
    {
        const string json = """
        {"value":[
          {"skuPartNumber":"SPE_E3","appliesTo":"User","capabilityStatus":"Enabled","consumedUnits":900,"prepaidUnits":{"enabled":1000,"suspended":0,"warning":0},"servicePlans":[{"servicePlanName":"SHAREPOINTENTERPRISE"}]},
          {"skuPartNumber":"SPE_F1","appliesTo":"User","capabilityStatus":"Warning","consumedUnits":10,"prepaidUnits":{"enabled":500},"servicePlans":[{"servicePlanName":"SHAREPOINTDESKLESS"}]},
          {"skuPartNumber":"POWER_BI_STANDARD","appliesTo":"User","capabilityStatus":"Enabled","consumedUnits":3,"prepaidUnits":{"enabled":1000000},"servicePlans":[{"servicePlanName":"BI_AZURE_P0"}]},
          {"skuPartNumber":"OLD","appliesTo":"User","capabilityStatus":"LockedOut","consumedUnits":0,"prepaidUnits":{"enabled":0,"lockedOut":9000},"servicePlans":[{"servicePlanName":"SHAREPOINTENTERPRISE"}]},
          {"skuPartNumber":"TENANT","appliesTo":"Company","capabilityStatus":"Enabled","prepaidUnits":{"enabled":50000},"servicePlans":[{"servicePlanName":"SHAREPOINTSTORAGE"}]}
        ]}
        """;
        Assert.Equal(1500, TenantLicences.CountFrom(json));
        Assert.Equal(TenantSizeBand.UpTo5000, SharePointCeilings.BandOf(TenantLicences.CountFrom(json)));
    }
}

/// <summary>The three ceilings in the emulator, and whole runs paced under them (issue 12).</summary>
public class CeilingEmulatorTests(ITestOutputHelper output)
{
    private static HttpRequestMessage SharePointGet(Emulator emulator, string path)
    {
        var r = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.MySiteUrl, path));
        r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.SharePointToken);
        r.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/json;odata=nometadata"));
        return r;
    }

    [Fact]
    public async Task Each_ceiling_answers_429_with_a_plain_body_and_Retry_After_until_its_window_frees()
    {
        var scenario = Scenario.Parse("""{ "peopleManagerCallsPerWindow": 3, "peopleManagerWindowSeconds": 20, "retryAfterScale": 0.5, "users": [ { "upn": "a@contoso.com", "photo": { "seed": 1 }, "sharePoint": "none" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var http = new HttpClient();
        const string profile = "/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v='i%3A0%23.f%7Cmembership%7Ca%40contoso.com'";
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++) answers.Add(await http.SendAsync(SharePointGet(emulator, profile)));
        Assert.All(answers.Take(3), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[3].StatusCode);
        Assert.InRange(answers[3].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 9, 10); // 20 s window × 0.5
        var body = await answers[3].Content.ReadAsStringAsync();
        Assert.DoesNotContain("SPQueryThrottledException", body);
        Assert.StartsWith("text/plain", answers[3].Content.Headers.ContentType!.ToString());
        Assert.False(answers[3].Headers.Contains("RateLimit-Limit")); // only the per-app limit sends them
        // Other SharePoint calls are not PeopleManager calls.
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(SharePointGet(emulator, "/_api/web"))).StatusCode);
        Assert.Equal(1, emulator.CeilingHits(CeilingKind.PeopleManagerCalls));

        // Per app: 10 RU, REST 2 each; RateLimit-* from 80% (8 RU) on; Graph calls count too.
        using var control = new HttpClient();
        Assert.Equal(HttpStatusCode.NoContent, (await control.PostAsync(new Uri(emulator.ControlUrl, "limits?peopleManagerCalls=0&appUnits=10&appWindowSeconds=30&retryAfterScale=1"), null)).StatusCode);
        var graph = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.GraphUrl, "v1.0/users/a@contoso.com/photo"));
        graph.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.GraphToken);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(graph)).StatusCode); // 1 RU
        var web = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++) web.Add(await http.SendAsync(SharePointGet(emulator, "/_api/web")));
        Assert.Equal(new[] { 200, 200, 200, 200, 429 }, web.Select(w => (int)w.StatusCode));
        Assert.False(web[2].Headers.Contains("RateLimit-Limit")); // 7 RU of 10
        Assert.Equal("10", web[3].Headers.GetValues("RateLimit-Limit").Single()); // 9 RU
        Assert.Equal("1", web[3].Headers.GetValues("RateLimit-Remaining").Single());
        Assert.InRange(web[4].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 28, 30);

        // Per user: only for delegated tokens; the scenario's tokens here are app-only.
        await control.PostAsync(new Uri(emulator.ControlUrl, "limits?appUnits=0&userRequests=1"), null);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(SharePointGet(emulator, "/_api/web"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(SharePointGet(emulator, "/_api/web"))).StatusCode);
    }

    [Fact]
    public async Task The_band_comes_from_the_licences_and_a_refused_read_falls_back_to_the_smallest_with_a_warning()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "licences": 12000, "tokenKind": "delegated" }"""));
        using (var adaptive = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions { Pacing = SharePointPacing.Adaptive }))
        {
            // -Pacing Adaptive: no model; the pacer goes by SharePoint's answers alone.
            Assert.Null(await adaptive.ApplyCeilingsAsync(CancellationToken.None));
            Assert.Null(adaptive.Pipeline.SharePointPacer.Ceilings);
        }
        using (var learned = EmulatorServiceTests.Connect(emulator))
        {
            // The default learns the band from the licences (12,000: up to 15,000), delegated from the token's claims.
            var setup = (await learned.ApplyCeilingsAsync(CancellationToken.None))!;
            Assert.Equal((TenantSizeBand.UpTo15000, 12000L, true), (setup.Ceilings.Band!.Value, setup.Licences, setup.Delegated));
        }
        using (var connection = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions { Delegated = null }))
        {
            var setup = (await TenantLicences.ReadAsync(connection.Pipeline, connection.Endpoints, CancellationToken.None));
            Assert.Equal((12000L, TenantSizeBand.UpTo15000, null), (setup.Count, setup.Band, setup.Warning));
            Assert.Equal(SignInKind.Delegated, SignInKinds.OfAccessToken(emulator.SharePointToken)); // a delegated token (its claims say so)
        }
        emulator.Scenario.SubscribedSkusForbidden = true;
        using (var refused = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions { PeopleManagerShare = 0.2 }))
        {
            var setup = await TenantLicences.ReadAsync(refused.Pipeline, refused.Endpoints, CancellationToken.None);
            Assert.Equal(TenantSizeBand.UpTo1000, setup.Band);
            Assert.Contains("403", setup.Warning);
            Assert.Contains("-TenantSize", setup.Warning);
        }
        using (var given = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions { TenantSize = TenantSizeBand.UpTo50000 }))
        {
            var setup = (await given.ApplyCeilingsAsync(CancellationToken.None))!;
            Assert.Equal((TenantSizeBand.UpTo50000, null, true), (setup.Ceilings.Band!.Value, setup.Warning, setup.Delegated)); // delegated: the token's claims
            Assert.Equal(3000, setup.Ceilings.UserRequests);
            Assert.Equal(5000, given.Pipeline.SharePointPacer.Ceilings!.AppResourceUnits);
        }
    }

    // ---------- whole runs under the ceilings ----------

    /// <summary>1,000 users: SharePoint kinds round-robin, with the state each must end in.</summary>
    private static readonly (string Kind, PhotoState State)[] Mix =
    {
        ("synced-objectid", PhotoState.InSync), ("synced-objectid", PhotoState.InSync), ("synced-objectid", PhotoState.InSync),
        ("synced-objectid", PhotoState.InSync), ("synced-objectid", PhotoState.InSync), ("synced-objectid", PhotoState.InSync),
        ("no-exchange-photo", PhotoState.NoSourcePhoto), ("no-profile", PhotoState.NotFound),
        ("none", PhotoState.MissingInSharePoint), ("stale", PhotoState.Different),
    };

    private static Scenario Tenant(int users, string ceilings) => Scenario.Parse($$"""
        { "latencyMs": 0, {{ceilings}},
          "population": { "count": {{users}}, "upnFormat": "u{0:0000}@contoso.com", "photoSize": 96, "mix": [ {{string.Join(", ", Mix.Select(m => "\"" + m.Kind + "\""))}} ] } }
        """);

    /// <summary>
    /// What each user's state is with every ceiling off (a separate connection, no pacing model): the
    /// answer a paced run must give. Small generated photos make a few of SharePoint's own thumbnails
    /// compare Different; that is the comparison's business, not the pacer's, so the reference decides.
    /// </summary>
    private static Dictionary<string, PhotoState> Reference(Emulator emulator, IReadOnlyList<UserRef> users)
    {
        var s = emulator.Scenario;
        var saved = (s.AppResourceUnitsPerWindow, s.PeopleManagerCallsPerWindow, s.UserRequestsPerWindow);
        (s.AppResourceUnitsPerWindow, s.PeopleManagerCallsPerWindow, s.UserRequestsPerWindow) = (0, 0, 0);
        using var connection = EmulatorServiceTests.Connect(emulator);
        using var run = UserRunTests.CheckRun(connection);
        var states = UserRunTests.DriveCheck(run, users).ToDictionary(x => x.UserPrincipalName, x => x.State, StringComparer.OrdinalIgnoreCase);
        (s.AppResourceUnitsPerWindow, s.PeopleManagerCallsPerWindow, s.UserRequestsPerWindow) = saved;
        emulator.ResetLimits();
        emulator.State.ClearLog();
        // The kinds that do not depend on the comparison must be what the scenario seeded.
        for (var i = 0; i < users.Count; i++)
            if (Expected(i) != PhotoState.InSync) Assert.Equal(Expected(i), states[users[i].UserPrincipalName]);
        return states;
    }

    private static IReadOnlyList<UserRef> Users(int count) => Enumerable.Range(1, count).Select(i => UserRef.Parse($"u{i:0000}@contoso.com")).ToList();

    /// <summary>The 1,000 users' expected states (read with the ceilings off), then a timed check of them all under the ceilings.</summary>
    private static async Task<(IReadOnlyList<UserRef> Users, Dictionary<string, PhotoState> Reference, List<PhotoSyncState> States, Stopwatch Clock)> CheckThousand(
        Emulator emulator, ProfileSyncConnection connection)
    {
        var users = Users(1000);
        var reference = Reference(emulator, users);
        var clock = Stopwatch.StartNew();
        using var run = UserRunTests.CheckRun(connection);
        var states = await Task.Factory.StartNew(() => UserRunTests.DriveCheck(run, users), TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(90));
        clock.Stop();
        return (users, reference, states, clock);
    }
    private static PhotoState Expected(int index) => Mix[index % Mix.Length].State;

    private (double PeopleManagerCalls, double Throttled429) Report(Emulator emulator, ProfileSyncConnection connection, Stopwatch clock, string what)
    {
        var log = emulator.State.RequestLog;
        var pm = log.Where(e => e.Service is "mysite" or "admin" && e.Target.Contains("SP.UserProfiles.PeopleManager", StringComparison.OrdinalIgnoreCase)).ToList();
        var sharePoint = log.Count(e => e.Service is "mysite" or "admin");
        var throttled = log.Count(e => e.Service is "mysite" or "admin" && e.Status == 429);
        output.WriteLine($"{what}: {clock.Elapsed.TotalSeconds:0.0} s; SharePoint {sharePoint} requests ({throttled} answered 429); PeopleManager {pm.Count} calls ({pm.Count(e => e.Status == 429)} answered 429); " +
            $"Graph {log.Count(e => e.Service == "graph")} requests + {log.Count(e => e.Service == "graph-batch-item")} batch items; " +
            $"hits app/PM/user {emulator.CeilingHits(CeilingKind.AppResourceUnits)}/{emulator.CeilingHits(CeilingKind.PeopleManagerCalls)}/{emulator.CeilingHits(CeilingKind.UserRequests)}; " +
            $"last binding {connection.Pipeline.SharePointPacer.LastBinding.Ceiling}; {connection.Pipeline.SharePointPacer.BindingCeiling}");
        return (pm.Count, pm.Count(e => e.Status == 429));
    }

    // Scaled-down ceilings: windows of 10 s, Retry-After × 0.1. The tenant: 1,000 PeopleManager calls and
    // 2,400 RU per 10 s; ProfileSync plans 0.5 × 0.9 of the first (45 calls/s) and 0.95 of the second (its own ceiling).
    private const string AppAndPeopleManager =
        "\"appResourceUnitsPerWindow\": 2400, \"appWindowSeconds\": 10, \"peopleManagerCallsPerWindow\": 1000, \"peopleManagerWindowSeconds\": 10, \"retryAfterScale\": 0.1";

    private static readonly SharePointCeilings ScaledAppAndPeopleManager = new()
    {
        AppResourceUnits = 2400, AppWindow = TimeSpan.FromSeconds(10),
        PeopleManagerCalls = 1000, PeopleManagerWindow = TimeSpan.FromSeconds(10), PeopleManagerShare = 0.5,
    };

    [Fact]
    public async Task A_1000_user_check_under_the_app_and_PeopleManager_ceilings_gets_every_state_right_with_few_429s()
    {
        // People search refused: every profile is read with a PeopleManager call, the ceiling this test is about
        // (with search a bulk check makes few of them: BulkCheckTests).
        await using var emulator = await Emulator.StartAsync(Tenant(1000, AppAndPeopleManager + ", \"peopleSearch\": \"refused\""));
        using var connection = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions { Ceilings = ScaledAppAndPeopleManager });
        var (users, reference, states, clock) = await CheckThousand(emulator, connection);

        var (pm, throttled) = Report(emulator, connection, clock, "check");
        var byUser = states.ToDictionary(s => s.UserPrincipalName, StringComparer.OrdinalIgnoreCase);
        var wrong = users.Select((u, i) => (u, i)).Where(x => byUser[x.u.UserPrincipalName].State != reference[x.u.UserPrincipalName])
            .Select(x => $"{x.u.UserPrincipalName}: {byUser[x.u.UserPrincipalName].State} ({byUser[x.u.UserPrincipalName].Reason})").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} wrong, first: {string.Join("; ", wrong.Take(3))}");
        Assert.True(throttled <= 0.05 * pm, $"{throttled} of {pm} PeopleManager calls answered 429");
        Assert.True(pm >= 900, "the check read the profiles");
        // The ceiling bound: 45 calls/s planned, so the run cannot have been faster than (calls - burst) / rate.
        Assert.True(clock.Elapsed.TotalSeconds >= (pm - 23) / 45.0 * 0.9, $"{clock.Elapsed.TotalSeconds:0.0} s for {pm} calls: the pacer did not hold back");
    }

    [Fact]
    public async Task A_sync_of_1000_users_under_the_ceilings_leaves_every_user_synced_with_few_429s()
    {
        await using var emulator = await Emulator.StartAsync(Tenant(1000, AppAndPeopleManager));
        using var connection = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions { Ceilings = ScaledAppAndPeopleManager });
        var users = Users(1000);
        var reference = Reference(emulator, users);
        var clock = Stopwatch.StartNew();
        using var run = UserRunTests.SyncRun(connection);
        var results = await Task.Factory.StartNew(() => { var into = new List<PhotoSyncResult>(); UserRunTests.DriveSync(run, users, into); return into; }, TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(90));
        clock.Stop();

        var (pm, throttled) = Report(emulator, connection, clock, "sync");
        var byUser = results.ToDictionary(r => r.UserPrincipalName, StringComparer.OrdinalIgnoreCase);
        var wrong = users.Select((u, i) => (u, i)).Where(x =>
        {
            var r = byUser[x.u.UserPrincipalName];
            var before = reference[x.u.UserPrincipalName];
            var expected = before is PhotoState.Different or PhotoState.MissingInSharePoint ? SyncAction.Updated : SyncAction.Skipped;
            return r.Action != expected || r.StateBefore != before;
        }).Select(x => $"{x.u.UserPrincipalName}: {byUser[x.u.UserPrincipalName].Action} from {byUser[x.u.UserPrincipalName].StateBefore} ({byUser[x.u.UserPrincipalName].Error})").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} wrong, first: {string.Join("; ", wrong.Take(3))}");
        Assert.True(throttled <= 0.05 * pm, $"{throttled} of {pm} PeopleManager calls answered 429");
        // Every written user's profile now points at ProfileSync's thumbnails.
        Assert.Equal(reference.Values.Count(v => v is PhotoState.Different or PhotoState.MissingInSharePoint), results.Count(r => r.Action == SyncAction.Updated));
    }

    [Fact]
    public async Task A_1000_user_check_with_a_delegated_token_stays_under_the_per_user_ceiling()
    {
        // The signed-in user's 3,000 requests per 5 minutes, scaled to 600 per 10 s; the token is a user's (JWT claims).
        await using var emulator = await Emulator.StartAsync(Tenant(1000, "\"tokenKind\": \"delegated\", \"userRequestsPerWindow\": 600, \"userWindowSeconds\": 10, \"retryAfterScale\": 0.1"));
        using var connection = EmulatorServiceTests.Connect(emulator, options: new HttpPipelineOptions
        {
            Ceilings = new SharePointCeilings { UserRequests = 600, UserWindow = TimeSpan.FromSeconds(10) },
        });
        Assert.Equal(SignInKind.Delegated, SignInKinds.OfAccessToken(emulator.SharePointToken));
        var (users, reference, states, clock) = await CheckThousand(emulator, connection);

        Report(emulator, connection, clock, "delegated check");
        var log = emulator.State.RequestLog;
        var sharePoint = log.Count(e => e.Service is "mysite" or "admin");
        var throttled = log.Count(e => e.Service is "mysite" or "admin" && e.Status == 429);
        var byUser = states.ToDictionary(s => s.UserPrincipalName, StringComparer.OrdinalIgnoreCase);
        Assert.All(users, u => Assert.Equal(reference[u.UserPrincipalName], byUser[u.UserPrincipalName].State));
        Assert.True(throttled <= 0.05 * sharePoint, $"{throttled} of {sharePoint} SharePoint requests answered 429");
        Assert.Equal(SharePointCeiling.UserRequests, connection.Pipeline.SharePointPacer.LastBinding.Ceiling);
    }
}
