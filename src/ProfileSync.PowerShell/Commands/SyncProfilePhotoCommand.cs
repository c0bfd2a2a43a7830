using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Pushes each user's Exchange Online photo into SharePoint Online when the two differ: thumbnails
/// first, then the profile properties. -WhatIf sends no write request at all.
/// </summary>
[Cmdlet(VerbsData.Sync, "ProfilePhoto", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByUserSet)]
[OutputType(typeof(PhotoSyncResult))]
public sealed class SyncProfilePhotoCommand : UserCommandBase
{
    protected override string Activity => "Syncing profile photos";

    /// <summary>Rewrite the thumbnails and properties even for users found InSync.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Small, medium and large thumbnail sides in pixels. Default 48, 72, 200.</summary>
    [Parameter]
    [ValidateCount(3, 3)]
    public int[] ThumbnailSize { get; set; } = { ThumbnailSizes.Default.Small, ThumbnailSizes.Default.Medium, ThumbnailSizes.Default.Large };

    protected override void BeginProcessing()
    {
        ThumbnailSizes sizes;
        try
        {
            sizes = ThumbnailSizes.From(ThumbnailSize);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.InvalidParameter, ex.Message, ThumbnailSize));
            return;
        }
        Options = new SyncOptions { Sizes = sizes, Force = Force };
        base.BeginProcessing();
    }

    protected override async Task<object> StartUser(UserRef user, object? row, CancellationToken cancellationToken) =>
        await ActiveConnection.Photos.CheckAsync(user, Options, cancellationToken).ConfigureAwait(false);

    protected override object Unexpected(UserRef user, Exception ex)
    {
        var state = UnexpectedState(user, ex);
        return new PhotoSyncResult
        {
            UserPrincipalName = user.UserPrincipalName, Action = SyncAction.Failed, StateBefore = state.State,
            Error = state.Reason, ErrorId = state.ErrorId, Check = state,
        };
    }

    protected override void Handle(object result)
    {
        switch (result)
        {
            case UserCheck check:
                HandleCheck(check);
                break;
            case PhotoSyncResult outcome:
                WriteVerbose($"{outcome.UserPrincipalName}: {outcome.Action} ({outcome.StateBefore}). {outcome.Error ?? outcome.Reason}");
                WriteObject(outcome);
                Finished(outcome.UserPrincipalName, outcome.Action.ToString(), final: outcome.Action is SyncAction.Updated or SyncAction.Skipped);
                if (outcome.Action == SyncAction.Failed)
                {
                    var id = outcome.ErrorId ?? ErrorIds.SyncFailed;
                    WriteError(ErrorRecords.For(id, $"{outcome.UserPrincipalName}: {outcome.Error}", outcome.UserPrincipalName, ErrorRecords.RecommendedActionFor(id)));
                }
                else if (outcome.StateBefore == PhotoState.NotFound && outcome.Check is not null)
                {
                    WriteStateError(outcome.Check);
                }
                break;
        }
    }

    private void HandleCheck(UserCheck check)
    {
        var state = check.State;
        if (!Options.WouldWrite(state))
        {
            Handle(PhotoSyncService.NotWritten(state));
            return;
        }
        var action = $"Write the Exchange photo to the SharePoint profile ({state.State}: {state.Reason})";
        if (ConfirmWrite(state.UserPrincipalName, action, out var reason))
        {
            EnsureSharePointWriteAccess();
            Queue.Start(ct => SyncUser(check, ct), ex => Unexpected(check.User, ex));
            return;
        }
        var whatIf = reason == ShouldProcessReason.WhatIf;
        Finished(state.UserPrincipalName, whatIf ? nameof(SyncAction.WouldUpdate) : nameof(SyncAction.Skipped), final: false);
        WriteObject(new PhotoSyncResult
        {
            UserPrincipalName = state.UserPrincipalName,
            Action = whatIf ? SyncAction.WouldUpdate : SyncAction.Skipped,
            StateBefore = state.State,
            PictureUrl = state.SharePointPictureUrl,
            Reason = whatIf ? state.Reason : "Declined at the confirmation prompt.",
            Check = state,
        });
    }

    private bool ConfirmWrite(string target, string action, out ShouldProcessReason reason) =>
        ShouldProcess($"{action} for '{target}'.", $"Write the Exchange photo of '{target}' to SharePoint?", "Sync-ProfilePhoto", out reason);

    private async Task<object> SyncUser(UserCheck check, CancellationToken cancellationToken) =>
        await ActiveConnection.Photos.SyncAsync(check, Options, cancellationToken).ConfigureAwait(false);
}
