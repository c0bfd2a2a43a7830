using ProfileSync.Core.Identity;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using SyncStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Sync.UserCheck, ProfileSync.Core.Sync.PhotoSyncResult>;
using CheckStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Runs.NoPending, ProfileSync.Core.Sync.PhotoSyncState>;

namespace ProfileSync.Core.Tests;

/// <summary>
/// Bulk checks (issue 13): profiles read through People search where the live library listing agrees
/// with the index, per-user reads for everyone else, and remembered verdicts that die with either photo.
/// </summary>
public class BulkCheckTests
{
    private const string PeopleManager = "SP.UserProfiles.PeopleManager";

    /// <summary>400 users: SharePoint's own copies (legacy and object-id names), stale photos, placeholders.</summary>
    private static Task<Emulator> Tenant(string peopleSearch = "allowed", double hiddenShare = 0) => Emulator.StartAsync(new Scenario
    {
        PeopleSearch = peopleSearch,
        Population = new Population
        {
            Count = 400, PhotoSize = 96, HiddenFromAddressListShare = hiddenShare,
            Mix = { SharePointSeed.SyncedBySharePoint, SharePointSeed.SyncedObjectId, SharePointSeed.Stale, SharePointSeed.None, SharePointSeed.SyncedBySharePoint },
        },
    });

    /// <summary>Get-PhotoSyncState -All without PowerShell. Returns the states and the run's warnings.</summary>
    internal static (Dictionary<string, PhotoSyncState> States, List<string> Warnings) CheckAll(ProfileSyncConnection connection)
    {
        using var run = UserRunTests.CheckRun(connection);
        var states = new Dictionary<string, PhotoSyncState>(StringComparer.OrdinalIgnoreCase);
        void Handle(IEnumerable<CheckStep> steps) { foreach (var step in steps) states[step.Outcome!.UserPrincipalName] = step.Outcome; }
        Handle(run.SubmitWholeTenant(user => async ct => CheckStep.Done((await run.Services.Photos.CheckAsync(user, run.Options, ct)).State)));
        Handle(run.Complete());
        return (states, Warnings(run));
    }

    /// <summary>Sync-ProfilePhoto -All without PowerShell.</summary>
    internal static Dictionary<string, PhotoSyncResult> SyncAll(ProfileSyncConnection connection)
    {
        using var run = UserRunTests.SyncRun(connection, saveVerdicts: true);
        var results = new Dictionary<string, PhotoSyncResult>(StringComparer.OrdinalIgnoreCase);
        void Handle(IEnumerable<SyncStep> steps)
        {
            foreach (var step in steps)
            {
                if (step.Outcome is { } outcome) results[outcome.UserPrincipalName] = outcome;
                else run.Continue(step.Pending!.User, writes: true, async ct => SyncStep.Done(await run.Services.Photos.SyncAsync(step.Pending, run.Options, ct)));
            }
        }
        Handle(run.SubmitWholeTenant(user => async ct =>
        {
            var check = await run.Services.Photos.CheckAsync(user, run.Options, ct);
            return run.Options.WouldWrite(check.State) ? SyncStep.Ask(check) : SyncStep.Done(PhotoSyncService.NotWritten(check.State));
        }));
        Handle(run.Complete());
        return results;
    }

    private static List<string> Warnings<TP, TO>(UserRun<TP, TO> run) where TP : class where TO : class, IUserOutcome
    {
        var warnings = new List<string>();
        while (run.TryTakeMessage(out var m)) if (m.Kind == RunMessageKind.Warning) warnings.Add(m.Text);
        return warnings;
    }

    private static (int PeopleManager, int SharePoint, int Graph, int Writes) Counts(Emulator emulator)
    {
        var log = emulator.State.RequestLog;
        return (log.Count(e => e.Target.Contains(PeopleManager, StringComparison.Ordinal)),
            log.Count(e => e.Service is "mysite" or "admin"),
            log.Count(e => e.Service == "graph"),
            log.Count(e => e.Service is "mysite" or "admin" && e.IsWrite));
    }

    private static EmulatedUser User(Emulator emulator, int n) => emulator.State.FindByKey($"user{n:00000}@contoso.com")!;

    /// <summary>A new Exchange photo, as when the user or HR replaced it.</summary>
    private static void NewExchangePhoto(EmulatedUser user) => user.SetPhoto(new PhotoSpec { Seed = 777_000 + user.Upn.GetHashCode() % 1000, Width = 96, Height = 96 });

    [Fact]
    public async Task The_nightly_check_after_a_sync_reads_through_search_and_finds_every_change_within_the_budget()
    {
        await using var emulator = await Tenant();
        using var connection = EmulatorServiceTests.Connect(emulator);
        var synced = SyncAll(connection);
        Assert.DoesNotContain(synced.Values, r => r.Action == SyncAction.Failed);
        Assert.NotNull(emulator.State.ReadFile("/User Photos/" + RememberedVerdicts.FileName));
        emulator.RefreshSearchIndex(); // the index caught up overnight

        // 2% changed: four SharePoint copies and four photos ProfileSync wrote.
        var changed = new[] { 1, 2, 6, 10, 3, 8, 13, 18 }.Select(n => User(emulator, n)).ToList();
        foreach (var user in changed) NewExchangePhoto(user);
        emulator.State.ClearLog();

        var (states, warnings) = CheckAll(connection);
        Assert.Empty(warnings);
        Assert.Equal(400, states.Count);
        foreach (var user in changed) Assert.Equal(PhotoState.Different, states[user.Upn].State);
        var others = states.Values.Where(s => !changed.Any(c => c.Upn == s.UserPrincipalName)).ToList();
        Assert.All(others, s => Assert.Equal(PhotoState.InSync, s.State));
        Assert.Contains(others, s => s.ComparedBy == ComparisonMethod.Remembered);
        Assert.Contains(others, s => s.ComparedBy == ComparisonMethod.Name);

        var (pm, sharePoint, graph, writes) = Counts(emulator);
        Assert.Equal(0, writes); // a check never writes, not even its verdicts
        Assert.True(pm <= 0.02 * 400, $"{pm} PeopleManager calls for 400 users");
        Assert.True(sharePoint <= 0.05 * 400, $"{sharePoint} SharePoint requests for 400 users");
        Assert.True(graph <= 0.08 * 400, $"{graph} Graph requests for 400 users");

        // The nightly sync writes only the changed users.
        emulator.State.ClearLog();
        var nightly = SyncAll(connection);
        Assert.Equal(changed.Select(u => u.Upn).OrderBy(x => x), nightly.Values.Where(r => r.Action == SyncAction.Updated).Select(r => r.UserPrincipalName).OrderBy(x => x));
    }

    [Fact]
    public async Task Files_written_after_the_index_snapshot_are_found_by_the_next_bulk_check()
    {
        await using var emulator = await Tenant();
        using var connection = EmulatorServiceTests.Connect(emulator);
        SyncAll(connection);
        emulator.RefreshSearchIndex();

        // A SharePoint copy rewritten under the same names with another photo (new Modified, same PictureURL).
        var rewritten = User(emulator, 1);
        var other = emulator.State.ReadFile(emulator.State.FilePaths().First(p => p.Contains("user00006_contoso_com", StringComparison.Ordinal) && p.EndsWith("_LThumb.jpg", StringComparison.Ordinal)))!;
        var prefix = "/User Photos/Profile Pictures/user00001_contoso_com";
        foreach (var suffix in new[] { "_SThumb.jpg", "_MThumb.jpg", "_LThumb.jpg" }) emulator.State.WriteFile(prefix + suffix, other);

        var (states, _) = CheckAll(connection);
        Assert.Equal(PhotoState.Different, states[rewritten.Upn].State);
        Assert.NotEqual(ComparisonMethod.Remembered, states[rewritten.Upn].ComparedBy);
    }

    [Fact]
    public async Task SharePoint_copying_a_photo_after_the_index_snapshot_is_found_by_the_next_bulk_check()
    {
        await using var emulator = await Tenant();
        using var connection = EmulatorServiceTests.Connect(emulator);
        // user00004 has a placeholder; the index (taken at start) says "no photo".
        var user = User(emulator, 4);
        Assert.True(emulator.State.SharePointPull(user));
        emulator.State.ClearLog();

        var (states, _) = CheckAll(connection);
        Assert.Equal(PhotoState.InSync, states[user.Upn].State); // not MissingInSharePoint, as the index would have it
        Assert.Contains(emulator.State.RequestLog, e => e.Target.Contains(PeopleManager, StringComparison.Ordinal) && e.Target.Contains("user00004", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_PictureURL_changed_with_no_file_change_is_found_once_the_index_catches_up()
    {
        await using var emulator = await Tenant();
        using var connection = EmulatorServiceTests.Connect(emulator);
        SyncAll(connection);
        emulator.RefreshSearchIndex();

        // Someone points user00001's profile at user00006's thumbnails (as old as its own): no file is written.
        var user = User(emulator, 1);
        lock (user.Profile!) user.Profile["PictureURL"] = user.Profile["PictureURL"].Replace("user00001_contoso_com", "user00006_contoso_com", StringComparison.Ordinal);
        Assert.Equal(PhotoState.InSync, CheckAll(connection).States[user.Upn].State); // the one lag the design accepts

        emulator.RefreshSearchIndex();
        Assert.Equal(PhotoState.Different, CheckAll(connection).States[user.Upn].State);
    }

    [Fact]
    public async Task A_user_missing_from_the_index_is_still_checked_with_a_profile_read()
    {
        await using var emulator = await Tenant(hiddenShare: 0.1);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var hidden = emulator.State.Users.Where(u => u.HiddenFromAddressList).ToList();
        Assert.Equal(40, hidden.Count);

        var (states, warnings) = CheckAll(connection);
        Assert.Empty(warnings);
        var log = emulator.State.RequestLog;
        foreach (var user in hidden)
        {
            var expected = user.Profile!["PictureURL"].Length == 0 ? PhotoState.MissingInSharePoint : null as PhotoState?;
            if (expected is not null) Assert.Equal(expected, states[user.Upn].State);
            Assert.Contains(log, e => e.Target.Contains(PeopleManager, StringComparison.Ordinal) && e.Target.Contains(Uri.EscapeDataString(user.Upn).Replace(".", "%2E", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)
                || e.Target.Contains(PeopleManager, StringComparison.Ordinal) && Uri.UnescapeDataString(e.Target).Contains(user.Upn, StringComparison.OrdinalIgnoreCase));
        }
        // Stale photos of hidden users are found like everyone else's.
        Assert.All(hidden.Where(u => u.Upn.EndsWith("3@contoso.com", StringComparison.Ordinal) || u.Upn.EndsWith("8@contoso.com", StringComparison.Ordinal)),
            u => Assert.Equal(PhotoState.Different, states[u.Upn].State));
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("empty")]
    public async Task Search_refused_or_empty_gives_per_user_reads_and_one_warning(string mode)
    {
        await using var emulator = await Tenant(peopleSearch: mode);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var (states, warnings) = CheckAll(connection);
        var warning = Assert.Single(warnings);
        Assert.Contains("People search", warning, StringComparison.Ordinal);
        Assert.Contains("one by one", warning, StringComparison.Ordinal);
        Assert.Equal(400, states.Count);
        Assert.DoesNotContain(states.Values, s => s.State == PhotoState.Error);
        var (pm, _, _, _) = Counts(emulator);
        Assert.Equal(400, pm); // every user read one by one
    }

    [Fact]
    public async Task A_remembered_verdict_dies_when_either_photo_changes()
    {
        await using var emulator = await Tenant();
        using var connection = EmulatorServiceTests.Connect(emulator);
        SyncAll(connection);
        emulator.RefreshSearchIndex();
        var verdicts = ReadVerdicts(emulator);
        var exchangeSide = UserRef.Parse("user00001@contoso.com");
        var sharePointSide = UserRef.Parse("user00002@contoso.com");
        Assert.NotNull(verdicts.Find(exchangeSide));
        Assert.NotNull(verdicts.Find(sharePointSide));

        NewExchangePhoto(User(emulator, 1));
        // SharePoint copies user00002's (unchanged) photo again: same names, new files.
        await Task.Delay(1100); // Modified is in whole seconds
        Assert.True(emulator.State.SharePointPull(User(emulator, 2)));

        var (states, _) = CheckAll(connection);
        Assert.Equal(PhotoState.Different, states[exchangeSide.UserPrincipalName].State);
        Assert.Equal(PhotoState.InSync, states[sharePointSide.UserPrincipalName].State);
        Assert.Equal(ComparisonMethod.Fingerprint, states[sharePointSide.UserPrincipalName].ComparedBy); // compared again, not remembered
        Assert.Equal(ComparisonMethod.Remembered, states["user00005@contoso.com"].ComparedBy);

        // The next sync forgets the first (it writes the new photo) and remembers the second anew.
        SyncAll(connection);
        var after = ReadVerdicts(emulator);
        Assert.Null(after.Find(exchangeSide));
        Assert.NotEqual(verdicts.Find(sharePointSide), after.Find(sharePointSide));
        Assert.NotNull(after.Find(sharePointSide));
    }

    private static RememberedVerdicts ReadVerdicts(Emulator emulator)
    {
        var verdicts = new RememberedVerdicts();
        verdicts.Read(emulator.State.ReadFile("/User Photos/" + RememberedVerdicts.FileName)!);
        return verdicts;
    }
}
