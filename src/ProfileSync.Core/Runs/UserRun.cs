using System.Collections.Concurrent;
using System.Diagnostics;
using ProfileSync.Core.Exchange;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Runs;

/// <summary>
/// One run of a per-user command: everything that lives as long as the run and no longer. It admits
/// users (once each, the journal's finished ones skipped), reads ahead (photo metadata asked for 20
/// at a time), keeps at most ThrottleLimit users in flight on the thread pool, and hands each step
/// back to the one consumer thread (the PowerShell pipeline thread), which is the only one that
/// writes. It counts, journals and summarises outcomes, and stops: on a failure that meets every
/// user, on Cancel (Ctrl+C) or on Dispose, it returns only when every user it started is finished
/// (as it was or fully synced), waiting at most <see cref="RunSettings.StopGrace"/> for writes.
/// The connection keeps only what outlives runs: endpoints, tokens, the HTTP pipeline, clients.
/// </summary>
/// <remarks>
/// The methods that hand steps back are iterators: the caller handles each step (and may start the
/// user's next piece of work with <see cref="Continue"/>) before the run takes the next one.
/// </remarks>
public sealed class UserRun<TPending, TOutcome> : IDisposable where TPending : class where TOutcome : class, IUserOutcome
{
    private const int LookAhead = 2 * GraphPhotoBatch.MaxBatchSize;
    private static readonly TimeSpan HardStopWait = TimeSpan.FromSeconds(10);

    private readonly ProfileSyncConnection _connection;
    private readonly RunSettings _settings;
    private readonly Func<UserRef, Exception, TOutcome> _unexpected;
    private readonly BoundedWorkQueue<UserStep<TPending, TOutcome>> _queue;
    private readonly CompactKeySet _seen = new();
    private readonly Queue<(UserRef User, Func<CancellationToken, Task<UserStep<TPending, TOutcome>>> Work)> _waiting = new();
    private readonly List<UserRef> _notPrefetched = new();
    /// <summary>Input index of each user in the run and not yet concluded, by the key its result will carry (the UPN; the id's text until it is resolved).</summary>
    private readonly ConcurrentDictionary<string, int> _inputIndexOf = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<RunMessage> _messages = new();
    private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly (long Graph, long SharePoint, long GraphThrottled, long SharePointThrottled) _countersAtStart;
    private Task? _indexLoading;
    private long _lastProgress = -1;
    private int _done, _submitted, _cleanupFailed, _leftoversRecycled, _noSharePointProfile;
    private long? _total;
    private bool _writeAccessChecked, _stopped;
    private readonly List<TOutcome> _stoppedOutcomes = new();

    /// <param name="unexpected">What a worker's unexpected exception (or a cancellation) becomes, so the user still gets a result.</param>
    public UserRun(ProfileSyncConnection connection, RunSettings settings, Func<UserRef, Exception, TOutcome> unexpected)
    {
        _connection = connection;
        _settings = settings;
        _unexpected = unexpected;
        Services = new RunServices(connection);
        Index = new LibraryIndex();
        People = new PeopleIndex();
        Verdicts = new RememberedVerdicts();
        Options = settings.BulkProfileReads ? settings.Options with { Index = Index, People = People, Verdicts = Verdicts } : settings.Options with { Index = Index };
        var c = connection.Counters;
        _countersAtStart = (c.GraphRequests, c.SharePointRequests, c.GraphThrottled, c.SharePointThrottled);
        _queue = new BoundedWorkQueue<UserStep<TPending, TOutcome>>(settings.ThrottleLimit, CancellationToken.None);
        if (settings.JournalPath is string path)
        {
            // Throws ProfileSyncException JournalRefused for a journal of another tenant, command or format.
            Journal = RunJournal.Open(path, connection.Endpoints.TenantName, settings.Command);
            if (Journal.Resumed > 0) Verbose($"Journal '{Journal.Path}': {Journal.Resumed} users already finished; they are not done again.");
        }
    }

    public RunServices Services { get; }
    public LibraryIndex Index { get; }
    /// <summary>People search's index of profiles (bulk runs of checks): read instead of a profile read per user where the listing agrees.</summary>
    public PeopleIndex People { get; }
    /// <summary>Verdicts of earlier runs, kept in the tenant (bulk runs of checks).</summary>
    public RememberedVerdicts Verdicts { get; }
    /// <summary>The command's options with this run's library index.</summary>
    public SyncOptions Options { get; }
    public RunJournal? Journal { get; }
    /// <summary>Reads of this run stop when it is cancelled.</summary>
    public CancellationToken Token => _queue.Token;
    public int InFlight => _queue.InFlight;

    /// <summary>Whether any input reached the run yet (a user admitted, or a row counted).</summary>
    public bool HasInput => _seen.Count > 0 || _outcomes.Count > 0;

    /// <summary>Whether the user takes part: not twice in one run, not again when the journal has it finished.</summary>
    public Admission Admit(UserRef user)
    {
        if (!_seen.Add(user.UserPrincipalName)) return Admission.Duplicate;
        if (Journal?.IsFinished(user.UserPrincipalName) == true)
        {
            Count("AlreadyFinished");
            return Admission.AlreadyFinished;
        }
        return Admission.Admitted;
    }

    /// <summary>Queues an admitted user's first piece of work (numbered in the order users are queued), then starts what fits and hands back what is ready.</summary>
    public IEnumerable<UserStep<TPending, TOutcome>> Enqueue(UserRef user, Func<CancellationToken, Task<UserStep<TPending, TOutcome>>> work) =>
        Enqueue(user, _submitted + 1, (_, ct) => work(ct));

    /// <summary>
    /// Queues an admitted user's first piece of work, then starts what fits and hands back what is
    /// ready. <paramref name="inputIndex"/> (1-based) is where the user was in the input; its result
    /// carries it. A user given by object id is resolved to its UPN on the worker first, and
    /// <paramref name="work"/> is given the resolved user.
    /// </summary>
    public IEnumerable<UserStep<TPending, TOutcome>> Enqueue(UserRef user, int inputIndex, Func<UserRef, CancellationToken, Task<UserStep<TPending, TOutcome>>> work)
    {
        if (++_submitted == _settings.BulkThreshold) StartBulkReads();
        _inputIndexOf[user.UserPrincipalName] = inputIndex;
        _waiting.Enqueue((user, user.UpnKnown ? ct => work(user, ct) : ct => ResolveThenAsync(user, inputIndex, work, ct)));
        // Ids are asked for ahead too (their photo metadata is asked for once the UPN is known).
        if (_settings.PrefetchPhotoMetadata || !user.UpnKnown) _notPrefetched.Add(user);
        if (_notPrefetched.Count >= GraphPhotoBatch.MaxBatchSize) PrefetchWaiting();
        return StartWhatFits();
    }

    /// <summary>On a worker: the UPN of a user given by object id, then the user's work; the user's result is keyed by the UPN from here on.</summary>
    private async Task<UserStep<TPending, TOutcome>> ResolveThenAsync(UserRef user, int inputIndex, Func<UserRef, CancellationToken, Task<UserStep<TPending, TOutcome>>> work, CancellationToken cancellationToken)
    {
        var resolved = await Services.Users.ResolveAsync(user, inputIndex, cancellationToken).ConfigureAwait(false);
        if (!_seen.Add(resolved.UserPrincipalName))
            throw new ProfileSyncException(Failure.Of(ErrorIds.DuplicateUser,
                $"The object id '{user.UserPrincipalName}' is {resolved}, who is already in this run; handled once.") with { InputIndex = inputIndex });
        _inputIndexOf.TryRemove(user.UserPrincipalName, out _);
        _inputIndexOf[resolved.UserPrincipalName] = inputIndex;
        try
        {
            return await work(resolved, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // As the queue does for any user, with the user the result's key is now.
            return UserStep<TPending, TOutcome>.Done(_unexpected(resolved, ex));
        }
    }

    private IEnumerable<UserStep<TPending, TOutcome>> StartWhatFits()
    {
        // Start what fits; block only when the read-ahead is full.
        while (_waiting.Count > 0 && Starting && (_queue.HasCapacity || _waiting.Count > LookAhead))
        {
            while (!_queue.HasCapacity)
                foreach (var step in TakeOne()) yield return step;
            StartNext();
        }
        foreach (var step in Pump()) yield return step;
    }

    /// <summary>For input that starts no user (a duplicate, a bad row, a journaled user): start what has room and hand back what is ready.</summary>
    public IEnumerable<UserStep<TPending, TOutcome>> Pump()
    {
        while (_waiting.Count > 0 && Starting && _queue.HasCapacity) StartNext();
        while (_queue.TryTake(out var ready))
            foreach (var step in Checked(ready)) yield return step;
    }

    /// <summary>The end of the input: starts every waiting user and hands back every step until none is left.</summary>
    public IEnumerable<UserStep<TPending, TOutcome>> Complete()
    {
        PrefetchWaiting();
        while (_waiting.Count > 0 && Starting)
        {
            while (!_queue.HasCapacity)
                foreach (var step in TakeOne()) yield return step;
            StartNext();
        }
        while (_queue.HasPending)
            foreach (var step in TakeOne()) yield return step;
        if (_queue.IsCancellationRequested)
        {
            // Cancelled after the last result was already in: a stopped run, not a finished one.
            Stop();
            throw new OperationCanceledException(Token);
        }
        WaitForHelpers(_settings.StopGrace);
        if (_connection.Library.DiscoveryNote is string note) Verbose(note);
        SaveVerdicts();
    }

    /// <summary>A sync that changed what it remembers writes it back (one upload); a failure costs only downloads next time, so it warns.</summary>
    private void SaveVerdicts()
    {
        if (!_settings.SaveVerdicts || !Verdicts.Changed || Services.Stop.Failure is not null) return;
        try
        {
            Services.Stop.WriteToken.ThrowIfCancellationRequested();
            Verdicts.SaveAsync(_connection.SharePoint, _connection.Library.LibraryUrl, Services.Stop.WriteToken).GetAwaiter().GetResult();
            Verbose($"Remembered {Verdicts.Count} verdicts in '{RememberedVerdicts.PathIn(_connection.Library.LibraryUrl)}' for the next run.");
        }
        catch (ProfileSyncException ex)
        {
            Warn($"The remembered verdicts could not be written; the next run compares those photos again. {ex.Message}");
        }
    }

    /// <summary>
    /// Every mailbox user of the tenant, streamed page by page, each started as it comes. The library
    /// listing is read first: a few requests instead of a thumbnail download per user.
    /// </summary>
    public IEnumerable<UserStep<TPending, TOutcome>> SubmitWholeTenant(Func<UserRef, Func<CancellationToken, Task<UserStep<TPending, TOutcome>>>> workFor)
    {
        Wait(StartBulkReads());
        var directory = new MailboxUserDirectory(_connection.Pipeline, _connection.Endpoints, _settings.IncludeDisabledAccounts);
        Verbose($"Listing the tenant's users worth a photo sync (Graph filter: {directory.Filter}).");
        var listed = 0;
        var users = directory.ListAsync(Token).GetAsyncEnumerator(Token);
        try
        {
            // The user list is the run's input: any failure to read it stops the run.
            while (Wait(users.MoveNextAsync().AsTask(), anyFailureStops: true))
            {
                _total ??= directory.TotalCount;
                var (user, index) = (users.Current, ++listed); // users are numbered in listing order
                var steps = Admit(user) == Admission.Admitted ? Enqueue(user, index, (u, ct) => workFor(u)(ct)) : Pump();
                foreach (var step in steps) yield return step;
            }
        }
        finally
        {
            users.DisposeAsync().AsTask().ContinueWith(static t => t.Exception, TaskScheduler.Default).Wait(HardStopWait);
        }
    }

    /// <summary>
    /// Starts a user's next piece of work after its step was handled (a confirmed write); not once the
    /// run stops. Before the run's first SharePoint write (<paramref name="writes"/>), the write check runs once.
    /// </summary>
    public bool Continue(UserRef user, bool writes, Func<CancellationToken, Task<UserStep<TPending, TOutcome>>> work)
    {
        if (_stopped || !Starting) return false;
        if (writes) EnsureWriteAccess();
        _queue.Start(work, ex => UserStep<TPending, TOutcome>.Done(_unexpected(user, ex)));
        return true;
    }

    /// <summary>A result made on the pipeline thread (-WhatIf, a declined prompt, a bad row): counted, journaled when finished.</summary>
    public TOutcome Conclude(TOutcome outcome)
    {
        if (_inputIndexOf.TryRemove(outcome.UserPrincipalName, out var inputIndex)) outcome.InputIndex = inputIndex;
        if (outcome.NoSharePointProfile) _noSharePointProfile++;
        _done++;
        Count(outcome.Outcome);
        if (outcome.CleanupFailure is not null) _cleanupFailed++;
        _leftoversRecycled += outcome.LeftoverSetsRecycled;
        if (outcome.Finished) Journal?.Finished(outcome.UserPrincipalName, outcome.Outcome);
        return outcome;
    }

    /// <summary>Counts input that made no user (e.g. InvalidInput) in the summary.</summary>
    public void Count(string outcome) => _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;

    /// <summary>
    /// Before the run's first SharePoint write: can this identity write other users' profiles? A
    /// refusal that meets every user stops the run (RunStoppedException); an unanswered check only warns.
    /// </summary>
    private void EnsureWriteAccess()
    {
        if (_writeAccessChecked) return;
        _writeAccessChecked = true;
        try
        {
            Wait(_connection.SharePoint.CheckAdminAccessAsync(Token));
        }
        catch (ProfileSyncException ex) when (!ex.StopsRun)
        {
            Warn($"The SharePoint admin site could not be checked before writing; the run goes on. {ex.Message}");
        }
    }

    /// <summary>No new work once the run is cancelled or a failure that meets every user was noted.</summary>
    private bool Starting => !_queue.IsCancellationRequested && Services.Stop.Failure is null;

    /// <summary>Ctrl+C: cancels reads now; the pipeline thread then finishes the stop (<see cref="Stop"/>). Any thread.</summary>
    public void Cancel() => _queue.Cancel();

    /// <summary>
    /// Stops the run: reads cancelled, users waiting dropped (as they were), writes that began
    /// finished (cancelled only after the grace), outcomes of users that finished counted and
    /// journaled and kept for <see cref="TakeStoppedOutcomes"/>. Idempotent.
    /// </summary>
    public void Stop()
    {
        if (_stopped) return;
        _stopped = true;
        _queue.Cancel();
        _waiting.Clear();
        var waited = Stopwatch.StartNew();
        var report = _settings.OnStopping;
        while (!_queue.WaitIdle(TimeSpan.FromMilliseconds(250)))
        {
            if (waited.Elapsed >= _settings.StopGrace)
            {
                Services.Stop.EndWrites();
                _queue.WaitIdle(HardStopWait);
                break;
            }
            try
            {
                report?.Invoke($"Stopping: {_queue.InFlight} users in flight finish what they began (at most {(_settings.StopGrace - waited.Elapsed).TotalSeconds:0} s more).");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The host took no more output (Ctrl+C came meanwhile): the stop goes on without reporting.
                report = null;
            }
        }
        WaitForHelpers(HardStopWait);
        while (_queue.TryTake(out var step))
        {
            if (step.Outcome is not { } outcome) continue;
            Conclude(outcome);
            // Failures the stop itself caused (a stopping failure, a user stopped before it began) are not reported per user.
            if (outcome.Failure is null or { StopsRun: false, Exception: not OperationCanceledException }) _stoppedOutcomes.Add(outcome);
        }
    }

    /// <summary>Outcomes that came in while the run stopped (counted and journaled already), once each, for the caller to write.</summary>
    public IReadOnlyList<TOutcome> TakeStoppedOutcomes()
    {
        var taken = _stoppedOutcomes.ToList();
        _stoppedOutcomes.Clear();
        return taken;
    }

    public bool TryTakeMessage(out RunMessage message) => _messages.TryDequeue(out message);

    /// <summary>Progress, at most every 250 ms; null when it is not yet time.</summary>
    public RunProgress? ProgressDue()
    {
        var now = _clock.ElapsedMilliseconds;
        if (_lastProgress >= 0 && now - _lastProgress < 250) return null;
        _lastProgress = now;
        return new RunProgress(_done, _total, _done / Math.Max(0.001, now / 1000.0), "SharePoint pacing: " + _connection.Pipeline.SharePointPacer.BindingCeiling);
    }

    public ProfileSyncRunSummary Summary()
    {
        var c = _connection.Counters;
        return new ProfileSyncRunSummary
        {
            Command = _settings.Command,
            Users = _done,
            Outcomes = new Dictionary<string, int>(_outcomes),
            CleanupFailed = _cleanupFailed,
            LeftoverSetsRecycled = _leftoversRecycled,
            NoSharePointProfile = _noSharePointProfile,
            GraphRequests = c.GraphRequests - _countersAtStart.Graph,
            SharePointRequests = c.SharePointRequests - _countersAtStart.SharePoint,
            GraphThrottled = c.GraphThrottled - _countersAtStart.GraphThrottled,
            SharePointThrottled = c.SharePointThrottled - _countersAtStart.SharePointThrottled,
            Elapsed = _clock.Elapsed,
        };
    }

    /// <summary>Stops the run if it has not ended (a stop the caller did not see, an exception), then closes the journal.</summary>
    public void Dispose()
    {
        Stop();
        Journal?.Dispose();
        _queue.Dispose();
    }

    /// <summary>
    /// Takes the next step. When the run must stop (a failure that meets every user), the stop
    /// happens here: the step is handed back unless it is that failure, then RunStoppedException
    /// (what finished meanwhile: <see cref="TakeStoppedOutcomes"/>). A pending step of a stopping run is dropped: that user is as it was.
    /// </summary>
    private IEnumerable<UserStep<TPending, TOutcome>> TakeOne()
    {
        UserStep<TPending, TOutcome> taken;
        try
        {
            taken = _queue.Take();
        }
        catch (OperationCanceledException)
        {
            Stop();
            throw;
        }
        foreach (var step in Checked(taken)) yield return step;
    }

    private IEnumerable<UserStep<TPending, TOutcome>> Checked(UserStep<TPending, TOutcome> step)
    {
        if (step.Outcome is { } outcome) Conclude(outcome);
        if (Services.Stop.Failure is not { } stop)
        {
            yield return step;
            yield break;
        }
        if (step.Outcome is { Failure: null or { StopsRun: false } }) yield return step;
        Stop();
        throw new RunStoppedException(stop);
    }

    private void StartNext()
    {
        var (user, work) = _waiting.Dequeue();
        // A user about to start whose batch has not gone out yet is asked for through the batcher as usual.
        _notPrefetched.Remove(user);
        _queue.Start(work, ex => UserStep<TPending, TOutcome>.Done(_unexpected(user, ex)));
    }

    private void PrefetchWaiting()
    {
        if (_notPrefetched.Count == 0) return;
        Services.Users.Prefetch(_notPrefetched, Token);
        if (_settings.PrefetchPhotoMetadata) Services.Metadata.Prefetch(_notPrefetched.Where(u => u.UpnKnown).ToList(), Token);
        _notPrefetched.Clear();
    }

    /// <summary>
    /// The reads a bulk run makes once instead of per user: the library's file list, and for checks
    /// People search's index and the remembered verdicts. Each that fails warns once (on the pipeline
    /// thread) and its per-user reads go on as before.
    /// </summary>
    private Task StartBulkReads()
    {
        if (_indexLoading is not null) return _indexLoading;
        var library = _connection.Library.LibraryUrl;
        Verbose($"Bulk run: reading the file list of '{library}' once, so checks need no thumbnail downloads.");
        var reads = new List<Task>
        {
            Index.StartLoading(_connection.SharePoint, library, Token).ContinueWith(_ =>
            {
                if (Index.LoadError is string failed) Warn($"The photo library's file list could not be read; thumbnails are downloaded instead. {failed}");
            }, TaskScheduler.Default),
        };
        if (ReferenceEquals(Options.People, People))
        {
            Verbose("Bulk run: reading profiles through People search (500 a request); users it cannot vouch for are read one by one.");
            reads.Add(People.StartLoading(new PeopleSearch(_connection.SharePoint), Token).ContinueWith(_ =>
            {
                if (People.LoadError is string failed) Warn($"{failed}. Profiles are read one by one instead (one PeopleManager call per user).");
                else Verbose($"People search listed {People.Count:N0} profiles.");
            }, TaskScheduler.Default));
            reads.Add(Verdicts.StartLoading(_connection.SharePoint, library, Token).ContinueWith(_ =>
            {
                if (Verdicts.LoadError is string failed) Verbose($"Remembered verdicts not used: {failed}");
                else Verbose($"{Verdicts.Count:N0} remembered verdicts read.");
            }, TaskScheduler.Default));
        }
        return _indexLoading = Task.WhenAll(reads);
    }

    /// <summary>Read-ahead batches and the library listing end with the run: no request of this run after it returns.</summary>
    private void WaitForHelpers(TimeSpan timeout)
    {
        Services.Metadata.WaitIdle(timeout);
        Services.Users.WaitIdle(timeout);
        _indexLoading?.ContinueWith(static t => t.Exception, TaskScheduler.Default).Wait(timeout);
    }

    /// <summary>
    /// Blocks the pipeline thread on the run's own work. A cancellation stops the run and goes on as
    /// OperationCanceledException; a failure that meets every user (or any, where the run cannot go
    /// on without the answer) stops it as RunStoppedException.
    /// </summary>
    private T Wait<T>(Task<T> task, bool anyFailureStops = false)
    {
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Stop();
            throw;
        }
        catch (ProfileSyncException ex) when (ex.StopsRun || anyFailureStops)
        {
            Services.Stop.Note(ex.Failure with { StopsRun = true });
            Stop();
            throw new RunStoppedException(ex.Failure);
        }
    }

    private void Wait(Task task) => Wait(task.ContinueWith(static t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default));

    private void Verbose(string text) => _messages.Enqueue(new RunMessage(RunMessageKind.Verbose, text));
    private void Warn(string text) => _messages.Enqueue(new RunMessage(RunMessageKind.Warning, text));
}
