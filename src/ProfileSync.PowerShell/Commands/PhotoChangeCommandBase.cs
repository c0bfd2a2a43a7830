using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>What Set-ProfilePhoto and Remove-ProfilePhoto share: their results and how they are written.</summary>
public abstract class PhotoChangeCommandBase<TPending> : UserPipelineCommandBase<TPending, PhotoChangeResult> where TPending : class
{
    /// <summary>"Set" or "Remove", as results name it.</summary>
    protected abstract string Operation { get; }

    // These commands change the photo whose etag a prefetch would read.
    protected override bool PrefetchPhotoMetadata => false;
    protected override bool BulkProfileReads => false;

    protected override PhotoChangeResult Unexpected(UserRef user, Exception ex) =>
        PhotoChangeService.Failed(user, Operation, null, Failure.FromUnexpected(ex, ErrorIds.SyncFailed, "The run was stopped before this user."));

    /// <summary>A user's result, on the pipeline thread: the object, its error if it failed (with that error's own action).</summary>
    protected override void WriteOutcome(PhotoChangeResult outcome)
    {
        WriteVerbose($"{outcome.UserPrincipalName}: {outcome.Action} (Exchange {outcome.Exchange}, SharePoint {outcome.SharePoint}). {outcome.Reason}");
        WriteObject(outcome);
        if (outcome.Failure is { } failure) WriteError(ErrorRecords.ForUser(failure, outcome.UserPrincipalName, outcome.Reason, RowOf(outcome)));
        if (outcome.CleanupFailure is { } cleanup) WriteWarning($"{outcome.UserPrincipalName}: {cleanup.Message}");
    }

    /// <summary>A user declined at the prompt, or -WhatIf: counted, not journaled, written.</summary>
    protected void WriteNotConfirmed(PhotoChangeResult outcome) => WriteOutcome(Run.Conclude(outcome));
}
