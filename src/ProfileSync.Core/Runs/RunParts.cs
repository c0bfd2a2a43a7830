using ProfileSync.Core.Exchange;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Runs;

/// <summary>A user's final result, as the run counts it (summary), journals it (-JournalPath) and reports it.</summary>
public interface IUserOutcome
{
    string UserPrincipalName { get; }
    /// <summary>The word the summary counts it under (a state or an action).</summary>
    string Outcome { get; }
    /// <summary>The user is done for good: a resumed run skips it. Failed users are tried again.</summary>
    bool Finished { get; }
    Failure? Failure { get; }
    /// <summary>Files of this user ProfileSync wrote and could not recycle.</summary>
    Failure? CleanupFailure { get; }
    /// <summary>Sets ProfileSync wrote earlier that no profile named any more, recycled in this run.</summary>
    int LeftoverSetsRecycled => 0;
    /// <summary>
    /// Where the user was in the input, 1-based (the row of a CSV, the place in -All's listing), so
    /// Sort-Object InputIndex restores the input's order; set by the run when it concludes the user.
    /// </summary>
    int InputIndex { get; set; }
    /// <summary>
    /// The user has no SharePoint profile yet: nothing to act on (SharePoint creates one at first
    /// sign-in), so the run counts it in one summary warning instead of an error per user.
    /// </summary>
    bool NoSharePointProfile => false;
}

/// <summary>
/// How a run stops: the first failure that would meet every user (noted by any worker), and the
/// token writes run under. A stop cancels reads at once; writes that began go on to the end, so a
/// user is as it was or fully synced, and are cancelled only when the stop's grace runs out.
/// </summary>
public sealed class RunStop
{
    private Failure? _failure;
    // Never disposed: a late write may still read its token after the run has ended.
    private readonly CancellationTokenSource _writes = new();

    public Failure? Failure => Volatile.Read(ref _failure);
    public CancellationToken WriteToken => _writes.Token;

    /// <summary>Keeps the first failure that stops the run; others are per-user and ignored here.</summary>
    public void Note(Failure failure)
    {
        if (failure.StopsRun) Interlocked.CompareExchange(ref _failure, failure, null);
    }

    internal void EndWrites() => _writes.Cancel();
}

/// <summary>
/// The services of one run, built on the connection's clients: its own metadata batcher (what it
/// read ahead dies with the run) and its own stop, so nothing of one run reaches the next.
/// </summary>
public sealed class RunServices
{
    public RunServices(ProfileSyncConnection connection)
    {
        Metadata = new PhotoMetadataBatcher(new GraphPhotoBatch(connection.Pipeline, connection.Endpoints));
        Photos = new PhotoSyncService(connection.Exchange, Metadata, connection.SharePoint, connection.Library, Stop);
        Changes = new PhotoChangeService(connection.Exchange, Metadata, connection.SharePoint, connection.Library, Photos);
        Users = new UserIdResolver(connection.Pipeline, connection.Endpoints, connection.Exchange);
    }

    public RunStop Stop { get; } = new();
    public PhotoMetadataBatcher Metadata { get; }
    public PhotoSyncService Photos { get; }
    public PhotoChangeService Changes { get; }
    /// <summary>Reads the UPN of users given by object id, batched when asked ahead.</summary>
    public UserIdResolver Users { get; }
}

/// <summary>No pending step: for commands whose workers hand back only final results (Get-PhotoSyncState).</summary>
public sealed class NoPending
{
    private NoPending() { }
}

/// <summary>
/// What a worker hands the pipeline thread: a user's final result, or something the pipeline thread
/// decides on (a confirmation) before the user's next piece of work starts.
/// </summary>
public readonly struct UserStep<TPending, TOutcome> where TPending : class where TOutcome : class, IUserOutcome
{
    private UserStep(TPending? pending, TOutcome? outcome) { Pending = pending; Outcome = outcome; }
    public TPending? Pending { get; }
    public TOutcome? Outcome { get; }
    public static UserStep<TPending, TOutcome> Ask(TPending pending) => new(pending, null);
    public static UserStep<TPending, TOutcome> Done(TOutcome outcome) => new(null, outcome);
}

/// <summary>What a run is told at its start.</summary>
public sealed record RunSettings
{
    /// <summary>The command's name, for the journal header and the summary.</summary>
    public required string Command { get; init; }
    public int ThrottleLimit { get; init; } = 40;
    public SyncOptions Options { get; init; } = new();
    /// <summary>A full path, or null for no journal.</summary>
    public string? JournalPath { get; init; }
    /// <summary>Whether users' photo metadata is asked for ahead, 20 at a time (not for commands that change photos).</summary>
    public bool PrefetchPhotoMetadata { get; init; } = true;
    /// <summary>How long a stop waits for writes that began; then they are cancelled.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Called on the stopping thread (the pipeline thread) about every 250 ms while a stop waits, with what it waits for.</summary>
    public Action<string>? OnStopping { get; init; }
    /// <summary>From this many users on, a run reads the photo library's file list once instead of downloading thumbnails.</summary>
    public int BulkThreshold { get; init; } = 200;
    /// <summary>Whether a bulk run reads profiles through People search and the remembered verdicts (checks; not Set/Remove, which read each profile they write).</summary>
    public bool BulkProfileReads { get; init; } = true;
    /// <summary>Whether the run writes its remembered verdicts back to the tenant when they changed (a sync that writes; never a read-only command or -WhatIf).</summary>
    public bool SaveVerdicts { get; init; }
    /// <summary>Whether -All lists disabled accounts too (-IncludeDisabled); by default only enabled members (see <see cref="MailboxUserDirectory"/>).</summary>
    public bool IncludeDisabledAccounts { get; init; }
}

public enum Admission { Admitted, Duplicate, AlreadyFinished }

public enum RunMessageKind { Verbose, Warning }

/// <summary>Text for the verbose or warning stream, queued by the run and written by the pipeline thread.</summary>
public readonly record struct RunMessage(RunMessageKind Kind, string Text);

/// <summary>Progress of a run for the progress bar: done so far, of how many when known, the pace, and what paces SharePoint.</summary>
/// <param name="Pacing">Which SharePoint ceiling binds now (or that none does), from the pacer.</param>
public readonly record struct RunProgress(int Done, long? Total, double UsersPerSecond, string? Pacing = null)
{
    public int? PercentComplete => Total is long t && t > 0 ? (int)Math.Min(100, Done * 100 / t) : null;
    public int? SecondsRemaining => Total is long t && UsersPerSecond > 0 ? (int)Math.Max(0, (t - Done) / UsersPerSecond) : null;
    public override string ToString() => Total is long t ? $"{Done} of {t} users, {UsersPerSecond:0.0} users/s" : $"{Done} users, {UsersPerSecond:0.0} users/s";
}

/// <summary>The run stopped on a failure that meets every user; every user it started is as it was or fully synced.</summary>
public sealed class RunStoppedException(Failure failure) : Exception(failure.Message, failure.Exception)
{
    public Failure Failure { get; } = failure;
}

/// <summary>What a run did, written to the information stream (tags ProfileSync, Summary) and as verbose text.</summary>
public sealed class ProfileSyncRunSummary
{
    public string Command { get; init; } = "";
    public int Users { get; init; }
    public IReadOnlyDictionary<string, int> Outcomes { get; init; } = new Dictionary<string, int>();
    /// <summary>Users whose files ProfileSync could not all recycle (see each result's CleanupFailure).</summary>
    public int CleanupFailed { get; init; }
    /// <summary>Sets of thumbnails ProfileSync wrote earlier, named by no profile any more, recycled (bulk runs).</summary>
    public int LeftoverSetsRecycled { get; init; }
    /// <summary>Users without a SharePoint profile (State NotFound, ErrorId SharePointProfileNotFound): a warning, not an error each.</summary>
    public int NoSharePointProfile { get; init; }

    /// <summary>The one warning that stands for every user without a SharePoint profile; null when there is none.</summary>
    public string? NoSharePointProfileWarning => NoSharePointProfile == 0 ? null :
        $"{NoSharePointProfile} {(NoSharePointProfile == 1 ? "user has" : "users have")} no SharePoint profile yet (State NotFound, ErrorId SharePointProfileNotFound): " +
        "SharePoint creates one at the user's first sign-in to SharePoint or OneDrive, or at the next profile import, and a later run syncs them. " +
        "Nothing to do now; -ErrorAction Continue writes an error for each.";
    public long GraphRequests { get; init; }
    public long SharePointRequests { get; init; }
    public long GraphThrottled { get; init; }
    public long SharePointThrottled { get; init; }
    public TimeSpan Elapsed { get; init; }

    public override string ToString() =>
        $"{Command}: {Users} users in {Elapsed.TotalSeconds:0.0} s ({string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}); " +
        (CleanupFailed > 0 ? $"{CleanupFailed} users with files not recycled; " : "") +
        (LeftoverSetsRecycled > 0 ? $"{LeftoverSetsRecycled} leftover thumbnail sets recycled; " : "") +
        (NoSharePointProfile > 0 ? $"{NoSharePointProfile} users without a SharePoint profile; " : "") +
        $"requests: Graph {GraphRequests}, SharePoint {SharePointRequests}; throttled answers: Graph {GraphThrottled}, SharePoint {SharePointThrottled}.";
}
