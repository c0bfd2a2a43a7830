using System.Text.RegularExpressions;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

/// <summary>
/// The invariant under failing services (issue 5), by a seeded randomised run: after any run every
/// profile is as it was or fully synced, never pointing at a missing photo; a clean rerun brings every
/// user with an Exchange photo to InSync and leaves no file of ProfileSync's that nothing points at.
/// </summary>
public partial class FaultTests
{
    [GeneratedRegex(@"_[0-9a-f]{12}_[SML]Thumb\.jpg$")]
    private static partial Regex ProfileSyncName();

    private const string Mix = """["synced-by-sharepoint","stale","similar","none","missing-file","placeholder-with-url","no-exchange-photo","synced-objectid","outside-tenant"]""";

    [Theory]
    [InlineData(2026)]
    [InlineData(7)]
    public async Task Under_random_faults_every_profile_stays_as_it_was_or_fully_synced_and_a_clean_rerun_converges(int seed)
    {
        var scenario = Scenario.Parse($$"""
            { "tenant": "contoso", "faults": { "seed": {{seed}}, "rate": 0.12, "retryAfterSeconds": 0,
                          "kinds": ["throttle", "server-error", "reset", "reset-upload", "profile-write-error"] },
              "population": { "count": 240, "upnFormat": "f{0:000}@contoso.com", "seed": {{seed}}, "photoSize": 120, "mix": {{Mix}} } }
            """);
        await using var emulator = await Emulator.StartAsync(scenario);
        var users = emulator.State.Users.Select(u => UserRef.Parse(u.Upn)).OrderBy(u => u.UserPrincipalName, StringComparer.Ordinal).ToList();
        var before = Profiles(emulator);

        // Back-off waits are counted, not slept; injected throttles say Retry-After: 0, and 503s without
        // Retry-After (which pause SharePoint 5 s in real time) are left to HttpPipelineTests.
        var waits = 0;
        var options = new HttpPipelineOptions { Delay = (_, _) => { Interlocked.Increment(ref waits); return Task.CompletedTask; } };
        using (var faulty = EmulatorServiceTests.Connect(emulator, options: options))
        {
            var results = await SyncAllAsync(faulty, users);
            Assert.True(emulator.InjectedFaults >= 40, $"only {emulator.InjectedFaults} faults were injected");
            Assert.Contains(results, r => r.Action == SyncAction.Failed);
            Assert.Contains(results, r => r.Action == SyncAction.Updated);
            Assert.True(waits > 0);
        }
        AssertAsItWasOrSynced(emulator, before);

        emulator.Scenario.Faults!.Rate = 0;
        using (var clean = EmulatorServiceTests.Connect(emulator, options: options))
        {
            await SyncAllAsync(clean, users);
            var states = await Task.WhenAll(users.Select(u => clean.Photos.CheckAsync(u, new SyncOptions(), CancellationToken.None)));
            foreach (var check in states)
            {
                var user = emulator.State.FindByKey(check.User.UserPrincipalName)!;
                var expected = !user.HasPhoto ? PhotoState.NoSourcePhoto : PhotoState.InSync;
                Assert.True(check.State.State == expected, $"{check.User}: {check.State.State} ({check.State.Reason}), expected {expected}");
            }
        }
        AssertAsItWasOrSynced(emulator, before);

        // No file of ProfileSync's that no profile points at (S, M and L of every PictureURL count).
        var referenced = Profiles(emulator).Values.Where(p => p.PictureUrl is not null)
            .SelectMany(p => ThumbnailSet(p.PictureUrl!)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stray = emulator.State.FilePaths().Where(f => ProfileSyncName().IsMatch(f) && !referenced.Contains(f)).ToList();
        Assert.True(stray.Count == 0, "stray files: " + string.Join(", ", stray.Take(5)));
    }

    private static async Task<List<PhotoSyncResult>> SyncAllAsync(ProfileSyncConnection connection, IReadOnlyList<UserRef> users)
    {
        var gate = new SemaphoreSlim(16);
        var options = new SyncOptions();
        var results = await Task.WhenAll(users.Select(async user =>
        {
            await gate.WaitAsync();
            try
            {
                var check = await connection.Photos.CheckAsync(user, options, CancellationToken.None);
                return await connection.Photos.SyncAsync(check, options, CancellationToken.None);
            }
            finally
            {
                gate.Release();
            }
        }));
        return results.ToList();
    }

    private sealed record ProfileView(string? PictureUrl, string? Placeholder);

    private static Dictionary<string, ProfileView> Profiles(Emulator emulator) =>
        emulator.State.Users.Where(u => u.Profile is not null).ToDictionary(u => u.Upn, u =>
        {
            lock (u.Profile!)
                return new ProfileView(
                    u.Profile.TryGetValue("PictureURL", out var url) && url.Length > 0 ? url : null,
                    u.Profile.TryGetValue("SPS-PicturePlaceholderState", out var placeholder) ? placeholder : null);
        });

    private static IEnumerable<string> ThumbnailSet(string pictureUrl)
    {
        if (!Uri.TryCreate(pictureUrl, UriKind.Absolute, out var uri)) yield break;
        var medium = Uri.UnescapeDataString(uri.AbsolutePath);
        yield return medium;
        if (!medium.EndsWith("_MThumb.jpg", StringComparison.OrdinalIgnoreCase)) yield break;
        yield return medium[..^"_MThumb.jpg".Length] + "_SThumb.jpg";
        yield return medium[..^"_MThumb.jpg".Length] + "_LThumb.jpg";
    }

    /// <summary>Each profile is as it was, or points (placeholder 0) at a complete S/M/L set that exists.</summary>
    private static void AssertAsItWasOrSynced(Emulator emulator, Dictionary<string, ProfileView> before)
    {
        var files = emulator.State.FilePaths().ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (upn, now) in Profiles(emulator))
        {
            var was = before[upn];
            if (now == was) continue;
            Assert.True(now.Placeholder == "0", $"{upn}: changed ({was} -> {now}) but the placeholder is not 0");
            var set = ThumbnailSet(now.PictureUrl ?? "").ToList();
            Assert.True(set.Count == 3 && set.All(files.Contains), $"{upn}: points at {now.PictureUrl}, whose S/M/L set is not all there");
        }
    }
}
