using System.Diagnostics;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using SyncStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Sync.UserCheck, ProfileSync.Core.Sync.PhotoSyncResult>;
using CheckStep = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Runs.NoPending, ProfileSync.Core.Sync.PhotoSyncState>;

namespace ProfileSync.Core.Tests;

/// <summary>
/// The run object alone (issue 11): it never hangs, a stop returns within a bound with every user as
/// it was or fully synced and nothing sent after it returned, and nothing of one run reaches the next.
/// </summary>
public class UserRunTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>A result of the stress run: each user's outcome, and whether it came through a pending step.</summary>
    private sealed class FakeOutcome(string upn, bool viaPending) : IUserOutcome
    {
        public string UserPrincipalName { get; } = upn;
        public bool ViaPending { get; } = viaPending;
        public string Outcome => ViaPending ? "Written" : "Checked";
        public bool Finished => true;
        public Failure? Failure => null;
        public Failure? CleanupFailure => null;
        public int InputIndex { get; set; }
    }

    private sealed record FakePending(UserRef User);

    /// <summary>A connection to a closed port: the stress run's work is in memory, so nothing may reach it.</summary>
    private static ProfileSyncConnection Offline() =>
        new(new ServiceEndpoints("contoso", new Uri("http://127.0.0.1:9/v1.0"), new Uri("http://127.0.0.1:9"), new Uri("http://127.0.0.1:9")),
            new PreAcquiredTokenSource(EmulatorServiceTests.Secure("g")), new PreAcquiredTokenSource(EmulatorServiceTests.Secure("s")), "AccessToken");

    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    public async Task Thousands_of_users_under_a_busy_thread_pool_never_hang(int throttleLimit)
    {
        using var connection = Offline();
        const int users = 2000;
        using var busy = new CancellationTokenSource();
        // Keep the thread pool busy: work items that spin a little and queue themselves again, so
        // workers and the consumer interleave as on a loaded machine (without starving the pool for good).
        var spinners = Enumerable.Range(0, Environment.ProcessorCount * 2).Select(_ => Task.Run(async () =>
        {
            while (!busy.IsCancellationRequested) { Thread.SpinWait(20_000); await Task.Yield(); }
        })).ToArray();
        try
        {
            var settings = new RunSettings { Command = "Stress", ThrottleLimit = throttleLimit, PrefetchPhotoMetadata = false, BulkThreshold = int.MaxValue };
            using var run = new UserRun<FakePending, FakeOutcome>(connection, settings, (u, _) => new FakeOutcome(u.UserPrincipalName, false));
            var outcomes = new List<FakeOutcome>();
            var handled = 0;
            var driver = Task.Factory.StartNew(() =>
            {
                for (var i = 0; i < users; i++)
                {
                    var user = UserRef.Parse($"u{i:0000}@contoso.com");
                    if (run.Admit(user) != Admission.Admitted) continue;
                    var pending = i % 2 == 0;
                    var slow = i % 7 == 0;
                    Handle(run.Enqueue(user, async ct =>
                    {
                        await Task.Yield();
                        if (slow) await Task.Delay(1, ct);
                        return pending ? UserStep<FakePending, FakeOutcome>.Ask(new FakePending(user)) : UserStep<FakePending, FakeOutcome>.Done(new FakeOutcome(user.UserPrincipalName, false));
                    }));
                }
                Handle(run.Complete());
            }, TaskCreationOptions.LongRunning);

            // A hang is no progress at all: each 20 s without a single step fails the test; a slow machine only takes longer.
            var last = -1;
            while (!driver.IsCompleted)
            {
                await Task.WhenAny(driver, Task.Delay(TimeSpan.FromSeconds(20)));
                var now = Volatile.Read(ref handled);
                Assert.True(driver.IsCompleted || now > last, $"no step for 20 s after {now} of {users * 3 / 2} steps: the run hangs (in flight {run.InFlight})");
                last = now;
            }
            await driver;

            Assert.Equal(users, outcomes.Count);
            Assert.Equal(users, outcomes.Select(o => o.UserPrincipalName).Distinct().Count());
            Assert.Equal(users / 2, outcomes.Count(o => o.ViaPending));
            Assert.Equal(users, run.Summary().Users);
            Assert.Equal(0, run.InFlight);

            void Handle(IEnumerable<UserStep<FakePending, FakeOutcome>> steps)
            {
                foreach (var step in steps)
                {
                    Interlocked.Increment(ref handled);
                    if (step.Outcome is { } outcome) outcomes.Add(outcome);
                    else run.Continue(step.Pending!.User, writes: false, async _ => { await Task.Yield(); return UserStep<FakePending, FakeOutcome>.Done(new FakeOutcome(step.Pending.User.UserPrincipalName, true)); });
                }
            }
        }
        finally
        {
            busy.Cancel();
            await Task.WhenAll(spinners);
        }
    }

    internal static UserRun<UserCheck, PhotoSyncResult> SyncRun(ProfileSyncConnection connection, int throttleLimit = 40, bool saveVerdicts = false) =>
        new(connection, new RunSettings { Command = "Sync-ProfilePhoto", ThrottleLimit = throttleLimit, SaveVerdicts = saveVerdicts },
            (u, ex) => PhotoSyncService.NotWritten(PhotoSyncService.ErrorState(u, Failure.FromUnexpected(ex, ErrorIds.CheckFailed, "stopped"))));

    internal static UserRun<NoPending, PhotoSyncState> CheckRun(ProfileSyncConnection connection) =>
        new(connection, new RunSettings { Command = "Get-PhotoSyncState" },
            (u, ex) => PhotoSyncService.ErrorState(u, Failure.FromUnexpected(ex, ErrorIds.CheckFailed, "stopped")));

    /// <summary>What Sync-ProfilePhoto does with a run, without PowerShell: check on a worker, write what differs.</summary>
    internal static void DriveSync(UserRun<UserCheck, PhotoSyncResult> run, IEnumerable<UserRef> users, List<PhotoSyncResult> into, Action? afterEach = null)
    {
        foreach (var user in users)
        {
            if (run.Admit(user) != Admission.Admitted) continue;
            Handle(run.Enqueue(user, async ct =>
            {
                var check = await run.Services.Photos.CheckAsync(user, run.Options, ct);
                return run.Options.WouldWrite(check.State) ? SyncStep.Ask(check) : SyncStep.Done(PhotoSyncService.NotWritten(check.State));
            }));
        }
        Handle(run.Complete());

        void Handle(IEnumerable<SyncStep> steps)
        {
            foreach (var step in steps)
            {
                if (step.Outcome is { } outcome) { lock (into) into.Add(outcome); afterEach?.Invoke(); }
                else run.Continue(step.Pending!.User, writes: false, async ct => SyncStep.Done(await run.Services.Photos.SyncAsync(step.Pending, run.Options, ct)));
            }
        }
    }

    internal static List<PhotoSyncState> DriveCheck(UserRun<NoPending, PhotoSyncState> run, IEnumerable<UserRef> users, Action? afterEach = null)
    {
        var states = new List<PhotoSyncState>();
        foreach (var user in users)
        {
            if (run.Admit(user) != Admission.Admitted) continue;
            Handle(run.Enqueue(user, async ct => CheckStep.Done((await run.Services.Photos.CheckAsync(user, run.Options, ct)).State)));
        }
        Handle(run.Complete());
        return states;

        void Handle(IEnumerable<CheckStep> steps)
        {
            foreach (var step in steps) { states.Add(step.Outcome!); afterEach?.Invoke(); }
        }
    }

    internal static IReadOnlyList<UserRef> SlowUsers(Emulator emulator) => emulator.State.DirectoryOrder().Select(u => UserRef.Parse(u.Upn)).ToList();

    private static Task<Emulator> SlowEmulator() =>
        Emulator.StartAsync(Scenario.Load(Path.Combine(AppContext.BaseDirectory, "scenarios", "slow.json")));

    [Fact]
    public async Task A_stop_mid_run_returns_within_a_bound_with_every_user_as_it_was_or_fully_synced_and_nothing_sent_after()
    {
        await using var emulator = await SlowEmulator();
        using var connection = EmulatorServiceTests.Connect(emulator);
        var before = FaultTests.Profiles(emulator);
        var results = new List<PhotoSyncResult>();
        using var run = SyncRun(connection);
        var driver = Task.Factory.StartNew(() => DriveSync(run, SlowUsers(emulator), results), TaskCreationOptions.LongRunning);
        while (Volatile.Read(ref results).Count(r => r.Action == SyncAction.Updated) < 10 && !driver.IsCompleted) await Task.Delay(10);
        Assert.False(driver.IsCompleted, "the run was still under way when it was stopped");

        var clock = Stopwatch.StartNew();
        run.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => driver.WaitAsync(Bound));
        clock.Stop();
        var returnedAt = DateTimeOffset.UtcNow;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the stop took {clock.Elapsed}");

        await Task.Delay(500);
        var late = emulator.State.RequestLog.Where(e => (e.ReceivedAt ?? e.At) > returnedAt.AddMilliseconds(20)).ToList();
        Assert.True(late.Count == 0, $"{late.Count} requests arrived after the run returned, first: {late.FirstOrDefault()}");
        Assert.Empty(FaultTests.AsItWasOrSynced(emulator, before));
        Assert.True(results.Count < 200, "the run stopped before the end");
        Assert.Equal(0, run.InFlight);
    }

    [Fact]
    public async Task A_stopping_failure_ends_the_run_and_the_next_run_on_the_same_connection_is_clean()
    {
        await using var emulator = await SlowEmulator();
        using var connection = EmulatorServiceTests.Connect(emulator);
        var before = FaultTests.Profiles(emulator);
        var users = SlowUsers(emulator);
        var results = new List<PhotoSyncResult>();
        emulator.RejectTokens("sharepoint", after: 150);
        using (var first = SyncRun(connection))
        {
            var stopped = Assert.Throws<RunStoppedException>(() => DriveSync(first, users, results));
            Assert.Equal((ErrorIds.AuthenticationFailed, 401), (stopped.Failure.ErrorId, stopped.Failure.HttpStatus));
            Assert.Equal(0, first.InFlight);
        }
        // With the token refused, nothing can be put back: a user whose PictureURL was written just before
        // the refusal keeps the placeholder it showed before (documented in the README); any other change breaks the rule.
        var now = FaultTests.Profiles(emulator);
        var broken = FaultTests.AsItWasOrSynced(emulator, before)
            .Where(v => !(before[v[..v.IndexOf(':')]].Placeholder == "1" && now[v[..v.IndexOf(':')]].Placeholder == "1")).ToList();
        Assert.True(broken.Count == 0, string.Join("\n", broken));

        emulator.AcceptTokens();
        using var next = CheckRun(connection);
        var states = DriveCheck(next, users);
        Assert.Equal(users.Count, states.Count);
        Assert.DoesNotContain(states, s => s.State == PhotoState.Error);
        Assert.Null(next.Services.Stop.Failure);
    }

    [Fact]
    public async Task A_rerun_after_the_Exchange_photos_changed_gives_Different_not_a_stale_etag()
    {
        await using var emulator = await SlowEmulator();
        using var connection = EmulatorServiceTests.Connect(emulator);
        var users = SlowUsers(emulator);
        using (var sync = SyncRun(connection)) DriveSync(sync, users, new List<PhotoSyncResult>());

        // A check that reads ahead (metadata of users not yet started) and is stopped early.
        var checkedSoFar = 0;
        using (var first = CheckRun(connection))
        {
            Assert.ThrowsAny<OperationCanceledException>(() => DriveCheck(first, users, () => { if (++checkedSoFar == 5) first.Cancel(); }));
        }
        foreach (var user in emulator.State.Users.Where(u => u.Photo is not null)) user.SetPhoto(new PhotoSpec { Seed = 9000 + user.Upn.GetHashCode() % 100, Variant = 3 });

        using var second = CheckRun(connection);
        var states = DriveCheck(second, users);
        var withPhoto = emulator.State.Users.Where(u => u.Photo is not null).Select(u => u.Upn).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stale = states.Where(s => withPhoto.Contains(s.UserPrincipalName) && s.State == PhotoState.InSync).Select(s => s.UserPrincipalName).ToList();
        Assert.True(stale.Count == 0, $"InSync after the photo changed: {string.Join(", ", stale.Take(5))}");
        Assert.Contains(states, s => s.State == PhotoState.Different);
    }

    [Fact]
    public async Task A_stopped_runs_late_failure_cannot_touch_the_next_run()
    {
        await using var emulator = await SlowEmulator();
        using var connection = EmulatorServiceTests.Connect(emulator);
        var users = SlowUsers(emulator);
        var old = connection.CreateRunServices();
        var checks = await Task.WhenAll(users.Take(10).Select(u => old.Photos.CheckAsync(u, new SyncOptions(), CancellationToken.None)));
        var toWrite = checks.Where(c => c.State.NeedsSync).ToList();
        Assert.NotEmpty(toWrite);

        // The old run's writes meet a revoked token after the next run has begun.
        using var next = CheckRun(connection);
        emulator.RejectTokens("sharepoint", after: 0);
        var late = await Task.WhenAll(toWrite.Select(c => old.Photos.SyncAsync(c, new SyncOptions(), CancellationToken.None)));
        Assert.All(late, r => Assert.Equal(ErrorIds.AuthenticationFailed, r.ErrorId));
        Assert.NotNull(old.Stop.Failure);
        emulator.AcceptTokens();

        var states = DriveCheck(next, users);
        Assert.Equal(users.Count, states.Count);
        Assert.DoesNotContain(states, s => s.State == PhotoState.Error);
        Assert.Null(next.Services.Stop.Failure);
    }
}
