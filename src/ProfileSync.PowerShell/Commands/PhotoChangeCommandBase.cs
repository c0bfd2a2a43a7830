using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>What Set-ProfilePhoto and Remove-ProfilePhoto share: their results and how they are written.</summary>
public abstract class PhotoChangeCommandBase : UserPipelineCommandBase
{
    /// <summary>"Set" or "Remove", as results name it.</summary>
    protected abstract string Operation { get; }

    // These commands change the photo whose etag a prefetch would read.
    protected override bool PrefetchPhotoMetadata => false;

    protected override object Unexpected(UserRef user, Exception ex) =>
        PhotoChangeService.Failure(user, Operation, null, ex is OperationCanceledException ? "The run was stopped before this user." : $"{ex.GetType().Name}: {ex.Message}",
            ex is ProfileSyncException p ? p.ErrorId : ErrorIds.SyncFailed);

    /// <summary>A user's result, on the pipeline thread: the object, its error if it failed, and the journal once done.</summary>
    protected void WriteChange(PhotoChangeResult outcome)
    {
        WriteVerbose($"{outcome.UserPrincipalName}: {outcome.Action} (Exchange {outcome.Exchange}, SharePoint {outcome.SharePoint}). {outcome.Reason}");
        WriteObject(outcome);
        Finished(outcome.UserPrincipalName, outcome.Action.ToString(), final: outcome.Action is ChangeAction.Updated or ChangeAction.Removed);
        if (outcome.ErrorId is { } id)
            WriteError(ErrorRecords.For(id, $"{outcome.UserPrincipalName}: {outcome.Reason}", outcome.UserPrincipalName, ErrorRecords.RecommendedActionFor(id)));
    }

    protected PhotoChangeResult Declined(UserRef user, string? source) => new()
    {
        UserPrincipalName = user.UserPrincipalName, Operation = Operation, Action = ChangeAction.Skipped, Source = source, Reason = "Declined at the confirmation prompt.",
    };
}
