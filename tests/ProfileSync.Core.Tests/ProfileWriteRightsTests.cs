using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using SkiaSharp;
using ChangeStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Identity.UserRef, ProfileSync.Core.Sync.PhotoChangeResult>;

namespace ProfileSync.Core.Tests;

/// <summary>
/// Issue 12: SharePoint refuses other users' profile writes in two shapes (facts doc, section 3). The
/// right is proven with a harmless write before anything is uploaded; a refusal stops the run with
/// one ProfileWriteRefused and leaves profiles, photos and the library as they were.
/// </summary>
public class ProfileWriteRightsTests
{
    private static Task<Emulator> Tenant(int users, string rights = "allowed") => Emulator.StartAsync(Scenario.Parse($$"""
        { "tenant": "contoso", "profileWriteRights": "{{rights}}",
          "population": { "count": {{users}}, "upnFormat": "r{0:000}@contoso.com", "seed": 77, "mix": [ "stale", "none", "missing-file" ] } }
        """));

    private static int Uploads(Emulator emulator) => emulator.State.RequestLog.Count(e => e.Target.Contains("/Files/AddUsingPath(", StringComparison.OrdinalIgnoreCase));

    private static UserRun<UserRef, PhotoChangeResult> ChangeRun(ProfileSyncConnection connection, string command) =>
        new(connection, new RunSettings { Command = command, PrefetchPhotoMetadata = false },
            (u, ex) => PhotoChangeService.Failed(u, command, null, Failure.FromUnexpected(ex, ErrorIds.SyncFailed, "stopped")));

    /// <summary>What Set-ProfilePhoto (a photo for every user) or Remove-ProfilePhoto do with a run, confirmed for every user.</summary>
    private static List<PhotoChangeResult> DriveChange(UserRun<UserRef, PhotoChangeResult> run, IEnumerable<UserRef> users, Func<UserRef, CancellationToken, Task<PhotoChangeResult>> change)
    {
        var results = new List<PhotoChangeResult>();
        foreach (var user in users)
        {
            if (run.Admit(user) != Admission.Admitted) continue;
            Handle(run.Enqueue(user, _ => Task.FromResult(ChangeStep.Ask(user))));
        }
        Handle(run.Complete());
        return results;

        void Handle(IEnumerable<ChangeStep> steps)
        {
            foreach (var step in steps)
            {
                if (step.Outcome is { } outcome) results.Add(outcome);
                else run.Continue(step.Pending!, writes: true, async ct => ChangeStep.Done(await change(step.Pending!, ct)));
            }
        }
    }

    [Theory]
    [InlineData("403", "sync")]
    [InlineData("500", "sync")]
    [InlineData("403", "set")]
    [InlineData("500", "set")]
    [InlineData("403", "remove")]
    [InlineData("500", "remove")]
    public async Task A_refused_profile_write_stops_the_run_with_one_ProfileWriteRefused_before_anything_is_written(string shape, string command)
    {
        await using var emulator = await Tenant(60, rights: shape);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var users = UserRunTests.SlowUsers(emulator);
        var profiles = FaultTests.Profiles(emulator);
        var files = emulator.State.FilePaths();
        var photos = emulator.State.Users.ToDictionary(u => u.Upn, u => u.PhotoWrites.Count);
        var photo = PhotoPreparer.Prepare(TestImages.Solid(300, 300, SKColors.Teal), ImageLimits.Default, "photo");

        RunStoppedException stopped;
        if (command == "sync")
        {
            using var run = UserRunTests.SyncRun(connection);
            stopped = Assert.Throws<RunStoppedException>(() => UserRunTests.DriveSync(run, users, new List<PhotoSyncResult>()));
        }
        else
        {
            using var run = ChangeRun(connection, command);
            stopped = Assert.Throws<RunStoppedException>(() => DriveChange(run, users, (u, ct) => command == "set"
                ? run.Services.Changes.SetAsync(u, photo, "teal.png", sharePointOnly: false, run.Options, ct)
                : run.Services.Changes.RemoveAsync(u, exchangeOnly: false, sharePointOnly: false, run.Options, ct)));
        }

        Assert.Equal(ErrorIds.ProfileWriteRefused, stopped.Failure.ErrorId);
        Assert.Equal(int.Parse(shape), stopped.Failure.HttpStatus);
        Assert.Contains("User.ReadWrite.All", stopped.Failure.RecommendedAction);
        Assert.Equal(0, Uploads(emulator));
        Assert.Equal(profiles, FaultTests.Profiles(emulator));
        Assert.Equal(files, emulator.State.FilePaths());
        Assert.Equal(photos, emulator.State.Users.ToDictionary(u => u.Upn, u => u.PhotoWrites.Count));
        // One harmless write was tried, and only one: the refusal met every user waiting behind it.
        Assert.Equal(1, emulator.State.RequestLog.Count(e => e.Target.Contains("SetSingleValueProfileProperty", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("403")]
    [InlineData("500")]
    public async Task Rights_withdrawn_mid_run_leave_every_user_as_it_was_or_synced_no_stray_file_and_the_next_command_checks_everyone(string shape)
    {
        await using var emulator = await Tenant(300);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var users = UserRunTests.SlowUsers(emulator);
        var before = FaultTests.Profiles(emulator);
        // About 50 users' worth of profile writes (the proof, then PictureURL, placeholder and timestamp each) pass.
        emulator.SetRights(shape, after: 150);
        var results = new List<PhotoSyncResult>();
        using (var run = UserRunTests.SyncRun(connection))
        {
            var stopped = Assert.Throws<RunStoppedException>(() => UserRunTests.DriveSync(run, users, results));
            Assert.Equal(ErrorIds.ProfileWriteRefused, stopped.Failure.ErrorId);
        }
        Assert.InRange(results.Count(r => r.Action == SyncAction.Updated), 30, 70);

        // Nothing can be put back once writes are refused: a user whose PictureURL was written just before keeps
        // the placeholder it showed (documented); any other change breaks the rule.
        var now = FaultTests.Profiles(emulator);
        var broken = FaultTests.AsItWasOrSynced(emulator, before)
            .Where(v => !(before[v[..v.IndexOf(':')]].Placeholder == "1" && now[v[..v.IndexOf(':')]].Placeholder == "1")).ToList();
        Assert.True(broken.Count == 0, string.Join("\n", broken));
        var stray = FaultTests.StrayFiles(emulator);
        Assert.True(stray.Count == 0, "stray files: " + string.Join(", ", stray.Take(5)));

        emulator.SetRights("allowed");
        using var next = UserRunTests.CheckRun(connection);
        var states = UserRunTests.DriveCheck(next, users);
        Assert.Equal(users.Count, states.Count);
        Assert.DoesNotContain(states, s => s.State == PhotoState.Error);
    }
}

/// <summary>Issue 12: an upload into a folder above the list view threshold (500 SPQueryThrottledException) is no throttle.</summary>
public class ViewThresholdTests
{
    [Fact]
    public async Task An_upload_over_the_view_threshold_stops_the_run_once_naming_the_folder_and_its_size_without_retries()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""
            { "tenant": "contoso", "folderItemThreshold": 30, "thresholdOnAddUsingPath": true,
              "population": { "count": 40, "upnFormat": "t{0:000}@contoso.com", "seed": 5, "mix": [ "stale", "synced-objectid" ] } }
            """));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var folder = emulator.State.PhotoFolderUrl;
        var items = emulator.State.CountFilesIn(folder);
        Assert.True(items >= 30, $"the scenario fills the folder ({items} items)");
        var before = FaultTests.Profiles(emulator);

        using var run = UserRunTests.SyncRun(connection);
        var stopped = Assert.Throws<RunStoppedException>(() => UserRunTests.DriveSync(run, UserRunTests.SlowUsers(emulator), new List<PhotoSyncResult>()));

        Assert.Equal(ErrorIds.PhotoFolderTooLarge, stopped.Failure.ErrorId);
        Assert.Contains(folder, stopped.Failure.Message);
        Assert.Contains($"{items:N0} items", stopped.Failure.Message);
        Assert.Contains("-PhotoFolder", stopped.Failure.RecommendedAction);
        var uploads = emulator.State.RequestLog.Where(e => e.Target.Contains("AddUsingPath", StringComparison.Ordinal)).ToList();
        Assert.All(uploads, u => Assert.Equal(500, u.Status));
        Assert.True(uploads.Count <= 40, $"each refused upload was sent once, not retried ({uploads.Count})");
        Assert.Equal(0, connection.Counters.SharePointThrottled);
        Assert.Equal(before, FaultTests.Profiles(emulator));
    }
}
