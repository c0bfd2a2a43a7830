using ProfileSync.Core.Identity;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using CheckStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Runs.NoPending, ProfileSync.Core.Sync.PhotoSyncState>;

namespace ProfileSync.Core.Tests;

/// <summary>
/// Input as a new admin gives it (issue 14, items 6 and 10): rows numbered so results sort back into
/// the file's order, bad rows naming their row, Entra object ids read once for their UPN, users
/// without a SharePoint profile counted in one warning.
/// </summary>
public class UserRunInputTests
{
    private static UserRun<NoPending, PhotoSyncState> CheckRun(ProfileSyncConnection connection, int throttleLimit = 40) =>
        new(connection, new RunSettings { Command = "Get-PhotoSyncState", ThrottleLimit = throttleLimit },
            (u, ex) => PhotoSyncService.NotCheckedState(u, Failure.FromUnexpected(ex, ErrorIds.CheckFailed, "stopped")));

    /// <summary>Get-PhotoSyncState over piped input without PowerShell: each input read as the cmdlet reads it, numbered from 1.</summary>
    private static (List<PhotoSyncState> States, List<Failure> BadRows, ProfileSyncRunSummary Summary) Check(ProfileSyncConnection connection, IEnumerable<string?> inputs, int throttleLimit = 40)
    {
        using var run = CheckRun(connection, throttleLimit);
        var states = new List<PhotoSyncState>();
        var badRows = new List<Failure>();
        void Handle(IEnumerable<CheckStep> steps) { foreach (var step in steps) states.Add(step.Outcome!); }
        var index = 0;
        foreach (var input in inputs)
        {
            var (user, failure) = UserInput.Read(input, firstRow: !run.HasInput, "Get-PhotoSyncState", ++index);
            if (user is null) { badRows.Add(failure!); run.Count("InvalidInput"); continue; }
            if (run.Admit(user) != Admission.Admitted) continue;
            Handle(run.Enqueue(user, index, async (resolved, ct) => CheckStep.Done((await run.Services.Photos.CheckAsync(resolved, run.Options, ct)).State)));
        }
        Handle(run.Complete());
        return (states, badRows, run.Summary());
    }

    [Fact]
    public async Task Every_result_and_bad_row_carries_its_input_row_so_sorting_restores_the_files_order()
    {
        var scenario = new Scenario { LatencyMs = 5, Population = new Population { Count = 60, PhotoSize = 96, Mix = { SharePointSeed.SyncedBySharePoint, SharePointSeed.Stale, SharePointSeed.None } } };
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        // The file's order is the reverse of the directory's, with bad rows among the users.
        var rows = Enumerable.Range(1, 60).Reverse().Select(i => (string?)$"user{i:00000}@contoso.com").ToList();
        rows.Insert(10, "");
        rows.Insert(30, "not-a-upn");
        var (states, badRows, _) = Check(connection, rows, throttleLimit: 16);

        Assert.Equal(60, states.Count);
        Assert.Equal(new[] { 11, 31 }, badRows.Select(f => f.InputIndex!.Value));
        Assert.StartsWith("Row 11: ", badRows[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("Row 31: 'not-a-upn' is not a user principal name", badRows[1].Message, StringComparison.Ordinal);
        Assert.Equal(31, new ProfileSyncException(badRows[1]).InputIndex);
        var sorted = states.OrderBy(s => s.InputIndex).ToList();
        Assert.Equal(rows.Where(r => r is not ("" or "not-a-upn")), sorted.Select(s => s.UserPrincipalName));
        Assert.All(sorted, s => Assert.Equal(rows.IndexOf(s.UserPrincipalName) + 1, s.InputIndex));
    }

    [Fact]
    public async Task Object_ids_are_read_once_for_their_UPN_in_a_batch_and_an_unknown_id_is_UserNotFound_naming_its_row()
    {
        var scenario = Scenario.Parse("""
        { "users": [
            { "upn": "adele@contoso.com", "photo": { "seed": 1, "width": 96, "height": 96 }, "sharePoint": "synced-by-sharepoint" },
            { "upn": "megan@contoso.com", "photo": { "seed": 2, "width": 96, "height": 96 }, "sharePoint": "none" },
            { "upn": "jürgen@contoso.com", "photo": { "seed": 3, "width": 96, "height": 96 }, "sharePoint": "stale" } ] }
        """);
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        string Id(string upn) => emulator.State.FindByKey(upn)!.Id;
        var unknown = Guid.NewGuid().ToString("D");
        // One user in flight: the ids wait behind the first row and are asked for ahead, together.
        var (states, badRows, _) = Check(connection, new[] { "megan@contoso.com", Id("adele@contoso.com"), " " + Id("jürgen@contoso.com").ToUpperInvariant() + " ", unknown, Id("megan@contoso.com") },
            throttleLimit: 1);

        Assert.Empty(badRows);
        var byRow = states.ToDictionary(s => s.InputIndex);
        Assert.Equal(("megan@contoso.com", PhotoState.MissingInSharePoint), (byRow[1].UserPrincipalName, byRow[1].State));
        Assert.Equal(("adele@contoso.com", PhotoState.InSync), (byRow[2].UserPrincipalName, byRow[2].State));
        Assert.Equal(("jürgen@contoso.com", PhotoState.Different), (byRow[3].UserPrincipalName, byRow[3].State));
        Assert.Equal((PhotoState.NotFound, ErrorIds.UserNotFound), (byRow[4].State, byRow[4].ErrorId));
        Assert.Contains(unknown, byRow[4].Reason);
        Assert.Equal(4, byRow[4].Failure!.InputIndex);
        // Row 5 names megan again, by id: found out once her UPN is read, and not checked twice.
        Assert.Equal(ErrorIds.DuplicateUser, byRow[5].ErrorId);
        Assert.Contains("megan@contoso.com", byRow[5].Reason);

        // The four ids went to Graph in batch items, each once, none alone; profiles were read by UPN.
        var log = emulator.State.RequestLog;
        var idReads = log.Where(e => e.Service == "graph-batch-item" && e.Target.Contains("$select=id,userPrincipalName", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, idReads.Count);
        Assert.DoesNotContain(log, e => e.Service == "graph" && e.Target.Contains("$select=id", StringComparison.Ordinal));
        Assert.DoesNotContain(log, e => e.Service != "graph" && e.Service != "graph-batch-item" && e.Target.Contains(unknown, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Users_without_a_SharePoint_profile_are_NotFound_results_counted_once_in_the_summary()
    {
        var scenario = Scenario.Parse("""
        { "users": [
            { "upn": "adele@contoso.com", "photo": { "seed": 1, "width": 96, "height": 96 }, "sharePoint": "synced-by-sharepoint" },
            { "upn": "new1@contoso.com", "photo": { "seed": 2, "width": 96, "height": 96 }, "sharePoint": "no-profile" },
            { "upn": "new2@contoso.com", "photo": { "seed": 3, "width": 96, "height": 96 }, "sharePoint": "no-profile" },
            { "upn": "gone@contoso.com", "inGraph": false, "sharePoint": "none" } ] }
        """);
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var (states, _, summary) = Check(connection, new[] { "adele@contoso.com", "new1@contoso.com", "new2@contoso.com", "gone@contoso.com" });

        Assert.Equal(new[] { "new1@contoso.com", "new2@contoso.com" }, states.Where(s => s.NoSharePointProfile).Select(s => s.UserPrincipalName).Order());
        Assert.All(states.Where(s => s.NoSharePointProfile), s => Assert.Equal((PhotoState.NotFound, ErrorIds.SharePointProfileNotFound), (s.State, s.ErrorId)));
        // A user Graph does not know is an error to act on, not a missing profile.
        Assert.False(states.Single(s => s.UserPrincipalName == "gone@contoso.com").NoSharePointProfile);
        Assert.Equal(2, summary.NoSharePointProfile);
        Assert.StartsWith("2 users have no SharePoint profile yet", summary.NoSharePointProfileWarning);
        Assert.Contains("-ErrorAction Continue", summary.NoSharePointProfileWarning);
    }
}
