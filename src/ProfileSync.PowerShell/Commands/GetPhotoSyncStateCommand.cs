using System.Management.Automation;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>Compares each user's Exchange Online photo with the one SharePoint Online shows. Reads only.</summary>
[Cmdlet(VerbsCommon.Get, "PhotoSyncState", DefaultParameterSetName = ByUserSet)]
[OutputType(typeof(PhotoSyncState))]
public sealed class GetPhotoSyncStateCommand : UserCommandBase
{
    protected override string Activity => "Checking profile photos";

    protected override async Task<object> StartUser(UserRef user, object? row, CancellationToken cancellationToken) =>
        (await ActiveConnection.Photos.CheckAsync(user, Options, cancellationToken).ConfigureAwait(false)).State;

    protected override object Unexpected(UserRef user, Exception ex) => UnexpectedState(user, ex);

    protected override void Handle(object result)
    {
        var state = (PhotoSyncState)result;
        WriteVerbose($"{state.UserPrincipalName}: {state.State}. {state.Reason}");
        WriteObject(state);
        Finished(state.UserPrincipalName, state.State.ToString(), final: state.State != PhotoState.Error);
        if (state.State is PhotoState.NotFound or PhotoState.Error) WriteStateError(state);
    }
}
