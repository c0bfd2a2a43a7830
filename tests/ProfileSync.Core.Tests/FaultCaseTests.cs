using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

/// <summary>
/// Issue 5, item 3, one fault at a time with its exact per-user result: every request meets the fault
/// (or only its first tries: a storm that passes). After each, the profile is as it was or fully
/// synced, and no file ProfileSync wrote is left that the profile does not name.
/// </summary>
public class FaultCaseTests
{
    public static TheoryData<string, int?, SyncAction, string?> Cases => new()
    {
        // kind, only the first N tries of each request (null: every try), the user's action, its ErrorId
        { "throttle", 2, SyncAction.Updated, null },                        // 429 with Retry-After, then answers
        { "throttle-no-retry-after", 2, SyncAction.Updated, null },         // SharePoint 503 without Retry-After, then answers
        { "throttle", null, SyncAction.Failed, ErrorIds.Throttled },        // a storm that outlasts 10 retries
        { "server-error", null, SyncAction.Failed, ErrorIds.ExchangeRequestFailed }, // 500: not retried; the first call is Graph's
        { "reset", 1, SyncAction.Updated, null },                           // a dropped connection is retried
        { "reset", null, SyncAction.Failed, ErrorIds.ServiceUnreachable },  // ... but not forever
        { "timeout", 1, SyncAction.Updated, null },                         // no answer once: retried after the client's timeout
        { "timeout", null, SyncAction.Failed, ErrorIds.ServiceUnreachable },
        { "reset-upload", null, SyncAction.Failed, ErrorIds.ServiceUnreachable }, // every upload cut halfway: nothing stored
        { "profile-write-error", null, SyncAction.Failed, ErrorIds.SharePointRequestFailed }, // thumbnails uploaded, then the profile write fails
    };

    [Theory, MemberData(nameof(Cases))]
    public async Task Each_fault_gives_its_exact_result_and_leaves_the_profile_as_it_was_or_synced(string kind, int? onlyFirst, SyncAction expected, string? errorId)
    {
        var scenario = Scenario.Parse($$"""
            { "tenant": "contoso", "users": [ { "upn": "adele@contoso.com", "photo": { "seed": 3, "width": 240, "height": 240 }, "sharePoint": "stale" } ],
              "faults": { "seed": 1, "rate": 1.0, "retryAfterSeconds": 0, "kinds": ["{{kind}}"]{{(onlyFirst is int n ? $", \"onlyFirst\": {n}" : "")}} } }
            """);
        await using var emulator = await Emulator.StartAsync(scenario);
        var user = emulator.State.FindByKey("adele@contoso.com")!;
        Dictionary<string, string> before;
        lock (user.Profile!) before = new Dictionary<string, string>(user.Profile);
        var filesBefore = emulator.State.FilePaths();
        var options = new HttpPipelineOptions
        {
            Delay = (_, _) => Task.CompletedTask,
            Time = new FaultTests.SkippingClock(),
            RequestTimeout = TimeSpan.FromMilliseconds(500),
        };
        using var connection = EmulatorServiceTests.Connect(emulator, options: options);
        var check = await connection.CreateRunServices().Photos.CheckAsync(UserRef.Parse("adele@contoso.com"), new SyncOptions(), CancellationToken.None);
        var result = await connection.CreateRunServices().Photos.SyncAsync(check, new SyncOptions(), CancellationToken.None);

        Assert.True(expected == result.Action, $"{kind}: expected {expected}, got {result.Action} ({result.ErrorId}: {result.Error ?? result.Reason})");
        Assert.Equal(errorId, result.ErrorId);
        Assert.True(emulator.InjectedFaults > 0);
        Dictionary<string, string> after;
        lock (user.Profile!) after = new Dictionary<string, string>(user.Profile);
        if (expected == SyncAction.Failed)
        {
            Assert.Equal(before, after);
            Assert.Equal(filesBefore, emulator.State.FilePaths()); // what a failed attempt uploaded went again
        }
        else
        {
            Assert.Equal("0", after["SPS-PicturePlaceholderState"]);
            var medium = Uri.UnescapeDataString(new Uri(after["PictureURL"]).AbsolutePath);
            Assert.Contains(medium, emulator.State.FilePaths());
            Assert.DoesNotContain(before["PictureURL"] is { Length: > 0 } old ? Uri.UnescapeDataString(new Uri(old).AbsolutePath) : "-", emulator.State.FilePaths());
        }
    }
}
