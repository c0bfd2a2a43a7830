using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sync;
using Step = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Sync.UserCheck, ProfileSync.Core.Sync.PhotoSyncResult>;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Pushes each user's Exchange Online photo into SharePoint Online when the two differ: thumbnails
/// first, then the profile properties. -WhatIf sends no write request at all.
/// </summary>
[Cmdlet(VerbsData.Sync, "ProfilePhoto", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByUserSet)]
[OutputType(typeof(PhotoSyncResult))]
public sealed class SyncProfilePhotoCommand : UserCommandBase<UserCheck, PhotoSyncResult>
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
        CommandOptions = new SyncOptions { Sizes = sizes, Force = Force };
        base.BeginProcessing();
    }

    /// <summary>A sync that may write keeps the tenant's remembered verdicts current (one file in the photo library); -WhatIf writes nothing.</summary>
    protected override bool SavesVerdicts => !WhatIfRequested;

    /// <summary>The check, on a worker; a user the sync would not write is final here, the others ask for confirmation.</summary>
    protected override async Task<Step> StartUser(UserRef user, object? row, CancellationToken cancellationToken)
    {
        var check = await Run.Services.Photos.CheckAsync(user, Options, cancellationToken).ConfigureAwait(false);
        return Options.WouldWrite(check.State) || Run.Services.Photos.LeftoverSets(check, Options).Count > 0
            ? Step.Ask(check) : Step.Done(PhotoSyncService.NotWritten(check.State));
    }

    protected override PhotoSyncResult Unexpected(UserRef user, Exception ex) =>
        PhotoSyncService.NotWritten(GetPhotoSyncStateCommand.UnexpectedState(user, ex));

    protected override void Decide(UserCheck check)
    {
        var state = check.State;
        var target = state.UserPrincipalName;
        if (!Options.WouldWrite(state))
        {
            // Nothing to write, but sets ProfileSync wrote earlier that no profile names any more (SharePoint's own pull replaced them).
            var sets = Run.Services.Photos.LeftoverSets(check, Options).Count;
            if (ShouldProcess($"Recycle {sets} thumbnail set(s) ProfileSync wrote for '{target}' that its profile no longer names.",
                    $"Recycle {sets} leftover thumbnail set(s) of '{target}'?", "Sync-ProfilePhoto", out var why))
                Run.Continue(check.User, writes: false, async _ => Step.Done(await Run.Services.Photos.RecycleLeftoversAsync(check, Options).ConfigureAwait(false)));
            else
                WriteOutcome(Run.Conclude(PhotoSyncService.NotWritten(state)));
            return;
        }
        if (ShouldProcess($"Write the Exchange photo to the SharePoint profile ({state.State}: {state.Reason}) for '{target}'.",
                $"Write the Exchange photo of '{target}' to SharePoint?", "Sync-ProfilePhoto", out var reason))
            Run.Continue(check.User, writes: true, async ct => Step.Done(await Run.Services.Photos.SyncAsync(check, Options, ct).ConfigureAwait(false)));
        else
            WriteOutcome(Run.Conclude(PhotoSyncService.NotConfirmed(check, whatIf: reason == ShouldProcessReason.WhatIf)));
    }

    protected override void WriteOutcome(PhotoSyncResult outcome)
    {
        WriteVerbose($"{outcome.UserPrincipalName}: {outcome.Action} ({outcome.StateBefore}). {outcome.Error ?? outcome.Reason}");
        WriteObject(outcome);
        if (outcome.Action == SyncAction.Failed)
            WriteError(ErrorRecords.ForUser(outcome.Failure ?? Failure.Of(ErrorIds.SyncFailed, outcome.Reason ?? "The sync failed."), outcome.UserPrincipalName, inputIndex: RowOf(outcome)));
        else if (outcome.Check is { Failure: { } notFound } && PhotoStateRules.For(outcome.StateBefore).IsError && WritesError(outcome))
            WriteError(ErrorRecords.ForUser(notFound, outcome.UserPrincipalName, outcome.Check.Reason, RowOf(outcome)));
        if (outcome.CleanupFailure is { } cleanup) WriteWarning($"{outcome.UserPrincipalName}: {cleanup.Message}");
    }
}
