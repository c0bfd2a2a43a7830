using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

/// <summary>What a whole-tenant run costs, counted in the emulator's request log.</summary>
public class TenantScaleTests
{
    private static async Task<List<T>> RunAll<T>(IEnumerable<UserRef> users, int inFlight, Func<UserRef, Task<T>> work)
    {
        using var gate = new SemaphoreSlim(inFlight);
        return (await Task.WhenAll(users.Select(async u =>
        {
            await gate.WaitAsync();
            try { return await work(u); }
            finally { gate.Release(); }
        }))).ToList();
    }

    [Fact]
    public async Task Checking_a_tenant_ProfileSync_synced_costs_at_most_0_1_Graph_and_1_1_SharePoint_requests_per_user()
    {
        var scenario = Scenario.Parse("""{ "population": { "count": 300, "upnFormat": "u{0:000}@contoso.com", "mix": [ "stale", "none", "synced-by-sharepoint", "missing-file", "similar" ] } }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var users = Enumerable.Range(1, 300).Select(i => UserRef.Parse($"u{i:000}@contoso.com")).ToList();
        var syncOptions = new SyncOptions { Force = true };
        var photos = connection.CreateRunServices().Photos;
        var synced = await RunAll(users, 40, async u => await photos.SyncAsync(await photos.CheckAsync(u, syncOptions, CancellationToken.None), syncOptions, CancellationToken.None));
        Assert.All(synced, r => Assert.Equal(SyncAction.Updated, r.Action));

        emulator.State.ClearLog();
        var index = new LibraryIndex();
        var options = new SyncOptions { Index = index };
        await index.StartLoading(connection.SharePoint, connection.Library.LibraryUrl, CancellationToken.None);
        var run = connection.CreateRunServices();
        var states = await RunAll(users, 40, async u => (await run.Photos.CheckAsync(u, options, CancellationToken.None)).State);

        Assert.All(states, s => Assert.Equal((PhotoState.InSync, ComparisonMethod.Name), (s.State, s.ComparedBy)));
        var log = emulator.State.RequestLog;
        double graph = log.Count(e => e.Service == "graph"), sharePoint = log.Count(e => e.Service is "mysite" or "admin");
        Assert.True(graph / users.Count <= 0.1, $"Graph requests per user: {graph / users.Count}");
        Assert.True(sharePoint / users.Count <= 1.1, $"SharePoint requests per user: {sharePoint / users.Count}");
        Assert.DoesNotContain(log, e => e.Target.Contains("$value", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_exchange_photo_is_found_Different_then_written_under_new_names_and_the_old_set_is_recycled()
    {
        var scenario = Scenario.Parse("""{ "users": [ { "upn": "hr.import@contoso.com", "photo": { "seed": 5 }, "sharePoint": "none" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var user = UserRef.Parse("hr.import@contoso.com");
        var first = await connection.CreateRunServices().Photos.SyncAsync(await connection.CreateRunServices().Photos.CheckAsync(user, new SyncOptions(), CancellationToken.None), new SyncOptions(), CancellationToken.None);

        var emulated = emulator.State.FindByKey(user.UserPrincipalName)!;
        emulated.Photo = PhotoFactory.Portrait(new PhotoSpec { Seed = 77 });
        var index = new LibraryIndex();
        var options = new SyncOptions { Index = index };
        await index.StartLoading(connection.SharePoint, connection.Library.LibraryUrl, CancellationToken.None);
        var check = await connection.CreateRunServices().Photos.CheckAsync(user, options, CancellationToken.None);
        Assert.Equal((PhotoState.Different, ComparisonMethod.Fingerprint), (check.State.State, check.State.ComparedBy));

        var second = await connection.CreateRunServices().Photos.SyncAsync(check, options, CancellationToken.None);
        Assert.Equal(SyncAction.Updated, second.Action);
        Assert.NotEqual(first.PictureUrl, second.PictureUrl);
        var files = emulator.State.Files().Select(f => f.Path).ToList();
        Assert.Equal(3, files.Count);
        Assert.All(files, f => Assert.Contains(emulated.Id + "_" + UserPhotoLibrary.PhotoToken(user, emulated.PhotoETag!), f));
        Assert.Equal((PhotoState.InSync, ComparisonMethod.Name), ((await connection.CreateRunServices().Photos.CheckAsync(user, options, CancellationToken.None)).State.State, (await connection.CreateRunServices().Photos.CheckAsync(user, options, CancellationToken.None)).State.ComparedBy));
    }

    [Fact]
    public async Task The_library_listing_reads_5000_files_a_request_in_either_shape()
    {
        var flat = SharePointWireFormat.ReadFileRefs("""{"value":[{"FileRef":"/User Photos/P","FSObjType":1},{"FileRef":"/User Photos/P/a_MThumb.jpg","FSObjType":0,"Modified":"2026-11-28T21:04:05Z"}],"odata.nextLink":"https://h/next"}""");
        Assert.Equal(new[] { new LibraryFile("/User Photos/P/a_MThumb.jpg", new DateTimeOffset(2026, 11, 28, 21, 4, 5, TimeSpan.Zero)) }, flat.Files);
        Assert.Equal("https://h/next", flat.NextLink);
        var verbose = SharePointWireFormat.ReadFileRefs("""{"d":{"results":[{"__metadata":{"type":"SP.Data.UserPhotosItem"},"FileRef":"/User Photos/P/b.jpg","FSObjType":"0"}],"__next":"https://h/n2"}}""");
        Assert.Equal((new LibraryFile("/User Photos/P/b.jpg", null), "https://h/n2"), (verbose.Files.Single(), verbose.NextLink)); // no Modified: unknown

        var scenario = Scenario.Parse("""{ "population": { "count": 1700, "upnFormat": "u{0:0000}@contoso.com", "mix": [ "synced-objectid" ] } }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var index = new LibraryIndex();
        await index.StartLoading(connection.SharePoint, connection.Library.LibraryUrl, CancellationToken.None);
        Assert.True(index.IsReady);
        Assert.Equal(5100, index.Count);
        Assert.Equal(2, emulator.State.RequestLog.Count);
    }
}
