using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// What the per-user cmdlets share: they bind and validate input on the pipeline thread, hand users
/// to a <see cref="UserRun{TPending, TOutcome}"/> (the core's run engine: workers, read-ahead,
/// journal, counts, stop), and write what it hands back: results, errors, progress and the summary.
/// StopProcessing cancels the run; the run returns only when every user it started is finished.
/// </summary>
public abstract class UserPipelineCommandBase<TPending, TOutcome> : PSCmdlet, IDisposable
    where TPending : class where TOutcome : class, IUserOutcome
{
    protected const string ByUserSet = "ByUser", AllSet = "All";

    /// <summary>Users by UPN; from the pipeline as strings, or as CSV rows with one of the accepted columns.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByUserSet)]
    [Alias("UPN", "Mail", "Email", "Identity", "UserId"), AllowEmptyString, AllowNull, AllowEmptyCollection]
    public string?[] UserPrincipalName { get; set; } = Array.Empty<string>();

    /// <summary>Users in flight at once; each user's own requests run one after another, and the SharePoint pacer decides how many SharePoint requests run.</summary>
    [Parameter, ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 40;

    /// <summary>A connection from Connect-ProfileSync -ReturnConnection; default the session's current one.</summary>
    [Parameter]
    public ProfileSyncConnectionInfo? Connection { get; set; }

    /// <summary>A file that records each finished user, so a stopped run continues where it was (same command, same -JournalPath). Failed users are tried again.</summary>
    [Parameter, ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    protected ProfileSyncConnection ActiveConnection { get; private set; } = null!;
    protected UserRun<TPending, TOutcome> Run { get; private set; } = null!;
    protected SyncOptions Options => Run.Options; // the command's options with the run's library index
    protected abstract string Activity { get; } // the progress bar's title
    /// <summary>The command's own options (sizes, -Force), set before base.BeginProcessing.</summary>
    protected SyncOptions CommandOptions { get; set; } = new();
    /// <summary>Whether users' photo metadata is asked for ahead, 20 at a time (not for commands that change photos).</summary>
    protected virtual bool PrefetchPhotoMetadata => true;
    /// <summary>Whether bulk runs read profiles through People search and remembered verdicts (checks, not photo changes).</summary>
    protected virtual bool BulkProfileReads => true;
    /// <summary>Whether the run writes its remembered verdicts back to the tenant (only a sync that may write).</summary>
    protected virtual bool SavesVerdicts => false;
    /// <summary>Whether -All lists disabled accounts too.</summary>
    protected virtual bool IncludeDisabledAccounts => false;
    protected bool WhatIfRequested => (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && w is SwitchParameter { IsPresent: true }) || LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    protected override void BeginProcessing()
    {
        ActiveConnection = (Connection?.Connection ?? ProfileSyncSession.Current) is { IsDisposed: false } connection ? connection
            : throw Terminating(Failure.Of(ErrorIds.NotConnected, "Not connected. Run Connect-ProfileSync first."), null);
        if (JournalPath is not null && WhatIfRequested) WriteWarning("-JournalPath is not used with -WhatIf: a dry run finishes no user.");
        var journal = JournalPath is null || WhatIfRequested ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(JournalPath);
        var settings = new RunSettings { Command = MyInvocation.MyCommand.Name, ThrottleLimit = ThrottleLimit, Options = CommandOptions, JournalPath = journal, PrefetchPhotoMetadata = PrefetchPhotoMetadata,
            BulkProfileReads = BulkProfileReads, SaveVerdicts = SavesVerdicts, IncludeDisabledAccounts = IncludeDisabledAccounts,
            OnStopping = text => { if (!Stopping) WriteProgress(new ProgressRecord(1, Activity, text)); } }; // after Ctrl+C the host takes no more output
        try { Run = new UserRun<TPending, TOutcome>(ActiveConnection, settings, Unexpected); }
        catch (ProfileSyncException ex) { throw Terminating(ex.Failure, JournalPath); }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AllSet) return;
        foreach (var input in UserPrincipalName ?? Array.Empty<string?>())
        {
            var index = NextInputIndex();
            var (user, failure) = UserInput.Read(input, firstRow: !Run.HasInput, MyInvocation.MyCommand.Name, index);
            if (user is not null)
            {
                var (admission, row) = (Run.Admit(user), RowData());
                if (admission == Admission.Duplicate) OnDuplicate(user, row);
                Drive(admission == Admission.Admitted ? Run.Enqueue(user, index, (resolved, ct) => StartUser(resolved, row, ct)) : Run.Pump());
                continue;
            }
            if (failure!.StopsRun) throw Terminating(failure, input);
            WriteError(ErrorRecords.From(failure, input));
            Run.Count("InvalidInput");
            Drive(Run.Pump());
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == AllSet) Drive(Run.SubmitWholeTenant(user => ct => StartUser(user, null, ct)));
        Drive(Run.Complete());
        WriteProgress(new ProgressRecord(1, Activity, "Done") { RecordType = ProgressRecordType.Completed });
        var summary = Run.Summary();
        WriteInformation(summary, new[] { "ProfileSync", "Summary" });
        WriteVerbose(summary.ToString());
        WriteQueued();
        if (summary.NoSharePointProfileWarning is { } noProfiles) WriteWarning(noProfiles);
    }

    private int _inputIndex;

    /// <summary>The next input item's number, 1-based: every item counts, good or bad, so results and errors name the input's rows.</summary>
    protected int NextInputIndex() => ++_inputIndex;

    /// <summary>
    /// Whether the user's result also gets an error record. A user without a SharePoint profile needs no
    /// action, so by default it is only counted in the summary's one warning; an -ErrorAction Continue,
    /// Stop or Inquire given on the command asks for an error each (a preference variable does not).
    /// </summary>
    protected bool WritesError(IUserOutcome outcome) =>
        !outcome.NoSharePointProfile
        || (MyInvocation.BoundParameters.TryGetValue("ErrorAction", out var action) && action is ActionPreference.Continue or ActionPreference.Stop or ActionPreference.Inquire);

    /// <summary>The input row a user's error names: the row of piped input; none for -All (its order is the listing's, on the result).</summary>
    protected int? RowOf(IUserOutcome outcome) => ParameterSetName == AllSet || outcome.InputIndex == 0 ? null : outcome.InputIndex;

    protected override void StopProcessing() => Run?.Cancel();
    public void Dispose() => Run?.Dispose();

    /// <summary>What the current input row carries beside the user (read on the pipeline thread); null for none.</summary>
    protected virtual object? RowData() => null;
    /// <summary>A user that appears again in the same input: done once.</summary>
    protected virtual void OnDuplicate(UserRef user, object? row) => WriteVerbose($"{user}: already in this run; handled once.");

    /// <summary>The first piece of work for a user (and its row's data), on a worker thread. Touches no PowerShell API.</summary>
    protected abstract Task<UserStep<TPending, TOutcome>> StartUser(UserRef user, object? row, CancellationToken cancellationToken);

    /// <summary>What a worker's unexpected exception becomes, so the user still gets a result.</summary>
    protected abstract TOutcome Unexpected(UserRef user, Exception ex);

    /// <summary>A step that asks the pipeline thread (a confirmation); it ends in Run.Continue or <see cref="WriteOutcome"/>.</summary>
    protected abstract void Decide(TPending pending);

    /// <summary>A user's final result, on the pipeline thread: the object, and its error when it failed.</summary>
    protected abstract void WriteOutcome(TOutcome outcome);

    /// <summary>Writes every step the run hands back, then its queued messages and progress; a stopped run becomes one terminating error.</summary>
    private void Drive(IEnumerable<UserStep<TPending, TOutcome>> steps)
    {
        try
        {
            foreach (var step in steps)
            {
                if (step.Outcome is { } outcome) WriteOutcome(outcome);
                else Decide(step.Pending!);
                WriteQueued();
            }
            WriteQueued();
        }
        catch (RunStoppedException stopped)
        {
            foreach (var finished in Run.TakeStoppedOutcomes()) WriteOutcome(finished); // users that finished while the run stopped
            WriteQueued();
            throw Terminating(stopped.Failure, stopped.Failure.HttpStatus is null ? null : ActiveConnection.Endpoints.TenantName);
        }
        catch (OperationCanceledException) { throw new PipelineStoppedException(); }
        catch (PipelineStoppedException)
        {
            Run.Stop(); // the host stopped us while we wrote: writes in flight still finish before we return
            throw;
        }
    }

    private void WriteQueued()
    {
        while (Run.TryTakeMessage(out var m)) if (m.Kind == RunMessageKind.Warning) WriteWarning(m.Text); else WriteVerbose(m.Text);
        if (Run.ProgressDue() is { } p)
            WriteProgress(new ProgressRecord(1, Activity, p.ToString()) { PercentComplete = p.PercentComplete ?? -1, SecondsRemaining = p.SecondsRemaining ?? -1, CurrentOperation = p.Pacing });
    }

    private PipelineStoppedException Terminating(Failure failure, object? target)
    {
        ThrowTerminatingError(ErrorRecords.From(failure, target));
        return new PipelineStoppedException(); // not reached: it lets callers write `throw Terminating(...)`
    }
}
