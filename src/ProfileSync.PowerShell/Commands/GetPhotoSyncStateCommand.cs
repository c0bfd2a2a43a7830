using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Runs;
using ProfileSync.Core.Sync;
using Step = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Runs.NoPending, ProfileSync.Core.Sync.PhotoSyncState>;

namespace ProfileSync.PowerShell.Commands;

/// <summary>Compares each user's Exchange Online photo with the one SharePoint Online shows. Reads only.</summary>
[Cmdlet(VerbsCommon.Get, "PhotoSyncState", DefaultParameterSetName = ByUserSet)]
[OutputType(typeof(PhotoSyncState))]
public sealed class GetPhotoSyncStateCommand : UserCommandBase<NoPending, PhotoSyncState>
{
    protected override string Activity => "Checking profile photos";

    protected override async Task<Step> StartUser(UserRef user, object? row, CancellationToken cancellationToken) =>
        Step.Done((await Run.Services.Photos.CheckAsync(user, Options, cancellationToken).ConfigureAwait(false)).State);

    protected override PhotoSyncState Unexpected(UserRef user, Exception ex) => UnexpectedState(user, ex);

    protected override void Decide(NoPending pending) => throw new InvalidOperationException("A state check asks nothing of the pipeline thread.");

    protected override void WriteOutcome(PhotoSyncState state)
    {
        WriteVerbose($"{state.UserPrincipalName}: {state.State}. {state.Reason}");
        WriteObject(state);
        if (PhotoStateRules.For(state.State).IsError && state.Failure is { } failure && WritesError(state))
            WriteError(ErrorRecords.ForUser(failure, state.UserPrincipalName, state.Reason, RowOf(state)));
    }

    /// <summary>A user whose check threw or was stopped before it began: an Error state (NotFound for an object id Graph does not know).</summary>
    internal static PhotoSyncState UnexpectedState(UserRef user, Exception ex) =>
        PhotoSyncService.NotCheckedState(user, Failure.FromUnexpected(ex, ErrorIds.CheckFailed, "The run was stopped before this user was checked."));
}
