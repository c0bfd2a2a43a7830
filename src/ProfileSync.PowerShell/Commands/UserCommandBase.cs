using System.Diagnostics;
using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// What the per-user cmdlets share: users from strings or CSV rows (each with the row's own data, such
/// as a photo source), validated on the pipeline thread, run on a bounded set of workers, every result
/// written from the pipeline thread only; progress while it runs and a summary at the end.
/// StopProcessing cancels the workers. <see cref="UserCommandBase"/> adds -All.
/// </summary>
public abstract class UserPipelineCommandBase : PSCmdlet, IDisposable
{
    internal const string AcceptedColumns = "UserPrincipalName, UPN, Mail, Email, Identity, UserId";
    /// <summary>From this many users on, a pipeline run reads the photo library's file list once instead of downloading thumbnails.</summary>
    internal const int BulkThreshold = 200;
    protected const string ByUserSet = "ByUser";
    protected const string AllSet = "All";

    private readonly CompactKeySet _seen = new();
    /// <summary>Users read from the input but not yet started; their photo metadata is asked for ahead, 20 at a time.</summary>
    private readonly Queue<(UserRef User, object? Row)> _waiting = new();
    private readonly List<UserRef> _notPrefetched = new();
    private const int LookAhead = 2 * Core.Exchange.GraphPhotoBatch.MaxBatchSize;
    private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = new();
    private BoundedWorkQueue<object>? _queue;
    private long _lastProgress = -1;
    private int _done;
    private int _submitted;
    private long? _total;
    private (long Graph, long SharePoint, long GraphThrottled, long SharePointThrottled) _countersAtStart;

    /// <summary>Users by UPN; from the pipeline as strings, or as CSV rows with one of the accepted columns.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByUserSet)]
    [Alias("UPN", "Mail", "Email", "Identity", "UserId")]
    [AllowEmptyString, AllowNull, AllowEmptyCollection]
    public string?[] UserPrincipalName { get; set; } = Array.Empty<string>();

    /// <summary>
    /// Users in flight at once. Each user's own requests run one after another (so no mailbox sees
    /// more than one), photo metadata of users in flight is batched 20 to a Graph request, and the
    /// SharePoint pacer decides how many SharePoint requests run.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 40;

    /// <summary>A connection from Connect-ProfileSync -ReturnConnection; default the session's current one.</summary>
    [Parameter]
    public ProfileSyncConnectionInfo? Connection { get; set; }

    /// <summary>
    /// A file that records each finished user, so a stopped run continues where it was: run the same
    /// command with the same -JournalPath. Users that failed are tried again.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    private RunJournal? _journal;

    protected ProfileSyncConnection ActiveConnection { get; private set; } = null!;
    protected BoundedWorkQueue<object> Queue => _queue!;
    protected SyncOptions Options { get; set; } = new();
    protected abstract string Activity { get; }

    protected override void BeginProcessing()
    {
        var connection = Connection?.Connection ?? ProfileSyncSession.Current;
        if (connection is null || connection.IsDisposed)
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.NotConnected, "Not connected. Run Connect-ProfileSync first.", null,
                "Run Connect-ProfileSync -TenantName <name> with a sign-in method."));
        ActiveConnection = connection!;
        ActiveConnection.Photos.ResetStopFailure();
        if (JournalPath is not null && !WhatIfRequested)
        {
            try
            {
                _journal = RunJournal.Open(SessionState.Path.GetUnresolvedProviderPathFromPSPath(JournalPath), ActiveConnection.Endpoints.TenantName, MyInvocation.MyCommand.Name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(ErrorRecords.For(ErrorIds.JournalRefused, $"The journal '{JournalPath}' cannot be opened: {ex.Message}", JournalPath, "Give -JournalPath a file this account may write."));
            }
            catch (ProfileSyncException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, JournalPath));
            }
            if (_journal!.Resumed > 0) WriteVerbose($"Journal '{_journal.Path}': {_journal.Resumed} users already finished; they are not done again.");
        }
        else if (JournalPath is not null)
        {
            WriteWarning("-JournalPath is not used with -WhatIf: a dry run finishes no user.");
        }
        var c = ActiveConnection.Counters;
        _countersAtStart = (c.GraphRequests, c.SharePointRequests, c.GraphThrottled, c.SharePointThrottled);
        _queue = new BoundedWorkQueue<object>(ThrottleLimit, CancellationToken.None);
        Options = Options with { Index = new Core.SharePoint.LibraryIndex() };
        _clock.Start();
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AllSet) return;
        foreach (var input in UserPrincipalName ?? Array.Empty<string?>())
        {
            if (!UserRef.TryParse(input, out var user, out var error))
            {
                if (input is not null && input.StartsWith("@{", StringComparison.Ordinal) && input.EndsWith('}'))
                {
                    // The first row of a CSV without any user column: every row will be the same, so one terminating error.
                    if (_submitted == 0 && _done == 0)
                        ThrowTerminatingError(ErrorRecords.For(ErrorIds.NoUserColumn,
                            $"The input has no column ProfileSync recognises (first row: {input}). Name the user column one of: {AcceptedColumns}.", input,
                            $"Rename the column, e.g. Import-Csv users.csv | Select-Object @{{n='UserPrincipalName';e={{$_.Login}}}} | {MyInvocation.MyCommand.Name}."));
                    error = $"The input row {input} has no column ProfileSync recognises. Name the user column one of: {AcceptedColumns}.";
                }
                WriteError(ErrorRecords.For(ErrorIds.InvalidUserPrincipalName, error, input,
                    "Correct the row (a UPN such as adele@contoso.com) and run again for it; the other rows go on."));
                Count("InvalidInput");
                Pump();
                continue;
            }
            Submit(user!, RowData());
        }
    }

    /// <summary>What the current input row carries beside the user (read on the pipeline thread); null for none.</summary>
    protected virtual object? RowData() => null;

    /// <summary>Whether users' photo metadata is asked for ahead, 20 at a time (not for commands that change photos).</summary>
    protected virtual bool PrefetchPhotoMetadata => true;

    /// <summary>A user that appears again in the same input: done once.</summary>
    protected virtual void OnDuplicate(UserRef user, object? row) => WriteVerbose($"{user}: already in this run; handled once.");

    protected override void EndProcessing()
    {
        if (ParameterSetName == AllSet) SubmitWholeTenant();
        PrefetchWaiting();
        while (_waiting.Count > 0)
        {
            while (!Queue.HasCapacity) HandleAndReport(Take());
            StartNext();
        }
        while (Queue.HasPending) HandleAndReport(Take());
        WriteProgress(new ProgressRecord(1, Activity, "Done") { RecordType = ProgressRecordType.Completed });
        WriteSummary();
    }

    protected override void StopProcessing() => _queue?.Cancel();

    /// <summary>The first piece of work for a user (and its row's data), on a worker thread. Touches no PowerShell API.</summary>
    protected abstract Task<object> StartUser(UserRef user, object? row, CancellationToken cancellationToken);

    /// <summary>A result, on the pipeline thread. Calls <see cref="Finished"/> once per user when the user's final result is written.</summary>
    protected abstract void Handle(object result);

    /// <summary>What a worker's unexpected exception becomes, so the user still gets a result.</summary>
    protected abstract object Unexpected(UserRef user, Exception ex);

    protected bool WhatIfRequested => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && w is SwitchParameter { IsPresent: true };

    /// <summary>Counts a user's final outcome for progress and the summary; a finished one goes into the journal.</summary>
    protected void Finished(string userPrincipalName, string outcome, bool final)
    {
        _done++;
        Count(outcome);
        if (final) _journal?.Finished(userPrincipalName, outcome);
    }

    public void Dispose() => _journal?.Dispose();

    private void Count(string outcome) => _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;

    private void Submit(UserRef user, object? row)
    {
        if (!_seen.Add(user.UserPrincipalName))
        {
            OnDuplicate(user, row);
            Pump();
            return;
        }
        if (_journal?.IsFinished(user.UserPrincipalName) == true)
        {
            Count("AlreadyFinished");
            Pump();
            return;
        }
        if (++_submitted == BulkThreshold) StartLibraryIndex();
        _waiting.Enqueue((user, row));
        if (PrefetchPhotoMetadata) _notPrefetched.Add(user);
        if (_notPrefetched.Count >= Core.Exchange.GraphPhotoBatch.MaxBatchSize) PrefetchWaiting();
        // Start what fits; block only when the read-ahead is full.
        while (_waiting.Count > 0 && (Queue.HasCapacity || _waiting.Count > LookAhead))
        {
            while (!Queue.HasCapacity) HandleAndReport(Take());
            StartNext();
        }
        Pump();
    }

    /// <summary>
    /// For input that starts no user (a duplicate, a bad row, a user the journal has): start what has
    /// room and write what is ready, so results keep flowing while such rows stream in.
    /// </summary>
    private void Pump()
    {
        while (_waiting.Count > 0 && Queue.HasCapacity) StartNext();
        while (Queue.TryTake(out var ready)) HandleAndReport(ready);
    }

    private void PrefetchWaiting()
    {
        if (_notPrefetched.Count == 0) return;
        ActiveConnection.PhotoMetadata.Prefetch(_notPrefetched.ToList(), Queue.Token);
        _notPrefetched.Clear();
    }

    private void StartNext()
    {
        var (user, row) = _waiting.Dequeue();
        // A user about to start whose batch has not gone out yet is asked for through the batcher as usual.
        _notPrefetched.Remove(user);
        Queue.Start(ct => StartUser(user, row, ct), ex => Unexpected(user, ex));
    }

    private Task StartLibraryIndex()
    {
        WriteVerbose($"Bulk run: reading the file list of '{ActiveConnection.Library.LibraryUrl}' once, so checks need no thumbnail downloads.");
        return Options.Index!.StartLoading(ActiveConnection.SharePoint, ActiveConnection.Library.LibraryUrl, Queue.Token);
    }

    private void SubmitWholeTenant()
    {
        // A whole-tenant run reads the library listing before its first user: a few requests instead of a download per user.
        try { StartLibraryIndex().GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { throw new PipelineStoppedException(); }
        if (Options.Index!.LoadError is string failed) WriteWarning($"The photo library's file list could not be read; thumbnails are downloaded instead. {failed}");
        WriteVerbose($"Listing the tenant's mailbox users (Graph filter: {Core.Exchange.MailboxUserDirectory.Filter}).");
        var directory = new Core.Exchange.MailboxUserDirectory(ActiveConnection.Pipeline, ActiveConnection.Endpoints);
        var users = directory.ListAsync(Queue.Token).GetAsyncEnumerator(Queue.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = users.MoveNextAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    throw new PipelineStoppedException();
                }
                catch (ProfileSyncException ex)
                {
                    ThrowTerminatingError(ErrorRecords.From(ex, "-All"));
                    return;
                }
                if (!more) break;
                _total ??= directory.TotalCount;
                Submit(users.Current, null);
            }
        }
        finally
        {
            users.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private void HandleAndReport(object result)
    {
        // A rejected token or a missing permission meets every user alike: one terminating error, not one per user.
        if (ActiveConnection.Photos.StopFailure is { } stop)
        {
            if (!IsStopFailureResult(result)) Handle(result);
            Queue.Cancel();
            ThrowTerminatingError(ErrorRecords.From(stop, stop.StatusCode is null ? null : ActiveConnection.Endpoints.TenantName));
        }
        Handle(result);
        var now = _clock.ElapsedMilliseconds;
        if (now - _lastProgress < 250 && _lastProgress >= 0) return;
        _lastProgress = now;
        var seconds = Math.Max(0.001, now / 1000.0);
        var rate = _done / seconds;
        var record = new ProgressRecord(1, Activity,
            _total is long total ? $"{_done} of {total} users, {rate:0.0} users/s" : $"{_done} users, {rate:0.0} users/s");
        if (_total is long t && t > 0)
        {
            record.PercentComplete = (int)Math.Min(100, _done * 100 / t);
            if (rate > 0) record.SecondsRemaining = (int)Math.Max(0, (t - _done) / rate);
        }
        WriteProgress(record);
    }

    private object Take()
    {
        try
        {
            return Queue.Take();
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    private void WriteSummary()
    {
        var c = ActiveConnection.Counters;
        var summary = new ProfileSyncRunSummary
        {
            Command = MyInvocation.MyCommand.Name,
            Users = _done,
            Outcomes = new Dictionary<string, int>(_outcomes),
            GraphRequests = c.GraphRequests - _countersAtStart.Graph,
            SharePointRequests = c.SharePointRequests - _countersAtStart.SharePoint,
            GraphThrottled = c.GraphThrottled - _countersAtStart.GraphThrottled,
            SharePointThrottled = c.SharePointThrottled - _countersAtStart.SharePointThrottled,
            Elapsed = _clock.Elapsed,
        };
        WriteInformation(summary, new[] { "ProfileSync", "Summary" });
        WriteVerbose(summary.ToString());
        if (ActiveConnection.Library.DiscoveryNote is string note) WriteVerbose(note);
    }

    private static bool IsStopFailureResult(object result) => (result switch
    {
        PhotoSyncState s => s.ErrorId,
        PhotoSyncResult r => r.ErrorId,
        UserCheck c => c.State.ErrorId,
        PhotoChangeResult p => p.ErrorId,
        _ => null,
    }) is ErrorIds.AuthenticationFailed or ErrorIds.AccessDenied or ErrorIds.SignInFailed;

    private bool _writeAccessChecked;

    /// <summary>Before the run's first SharePoint write: can this identity write other users' profiles? If not, stop with one clear error.</summary>
    protected void EnsureSharePointWriteAccess()
    {
        if (_writeAccessChecked) return;
        _writeAccessChecked = true;
        try
        {
            ActiveConnection.SharePoint.CheckAdminAccessAsync(Queue.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (ProfileSyncException ex) when (ex.StopsRun)
        {
            Queue.Cancel();
            ThrowTerminatingError(ErrorRecords.From(ex, ActiveConnection.Endpoints.SharePointAdmin.Host));
        }
        catch (ProfileSyncException ex)
        {
            WriteWarning($"The SharePoint admin site could not be checked before writing; the run goes on. {ex.Message}");
        }
    }

    protected void WriteStateError(PhotoSyncState state)
    {
        var id = state.ErrorId ?? ErrorIds.CheckFailed;
        WriteError(ErrorRecords.For(id, $"{state.UserPrincipalName}: {state.Reason}", state.UserPrincipalName, ErrorRecords.RecommendedActionFor(id)));
    }

    protected static PhotoSyncState UnexpectedState(UserRef user, Exception ex) =>
        PhotoSyncService.ErrorState(user, ex is ProfileSyncException p ? p.ErrorId : ErrorIds.CheckFailed,
            ex is OperationCanceledException ? "The run was stopped before this user was checked." : $"{ex.GetType().Name}: {ex.Message}");
}

/// <summary>Get-PhotoSyncState and Sync-ProfilePhoto: the per-user pipeline, plus -All.</summary>
public abstract class UserCommandBase : UserPipelineCommandBase
{
    /// <summary>Every user of the tenant that has a mailbox (Graph filter "mail ne null"), streamed page by page.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }
}

/// <summary>What a bulk run did, written to the information stream (tags ProfileSync, Summary) and as verbose text.</summary>
public sealed class ProfileSyncRunSummary
{
    public string Command { get; init; } = "";
    public int Users { get; init; }
    public IReadOnlyDictionary<string, int> Outcomes { get; init; } = new Dictionary<string, int>();
    public long GraphRequests { get; init; }
    public long SharePointRequests { get; init; }
    public long GraphThrottled { get; init; }
    public long SharePointThrottled { get; init; }
    public TimeSpan Elapsed { get; init; }

    public override string ToString() =>
        $"{Command}: {Users} users in {Elapsed.TotalSeconds:0.0} s ({string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}); " +
        $"requests: Graph {GraphRequests}, SharePoint {SharePointRequests}; throttled answers: Graph {GraphThrottled}, SharePoint {SharePointThrottled}.";
}
