using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;
using Step = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Identity.UserRef, ProfileSync.Core.Sync.PhotoChangeResult>;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Removes users' photos: the Exchange photo (Graph), then SharePoint's (placeholder shown, PictureURL
/// cleared, the thumbnails ProfileSync wrote recycled); or one side with -ExchangeOnly / -SharePointOnly.
/// High impact: it asks for each user unless -Confirm:$false or -Force.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ProfilePhoto", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByUserSet)]
[OutputType(typeof(PhotoChangeResult))]
public sealed class RemoveProfilePhotoCommand : PhotoChangeCommandBase<UserRef>
{
    /// <summary>Remove the Exchange photo only; SharePoint keeps what it shows until its next pull or Sync-ProfilePhoto.</summary>
    [Parameter]
    public SwitchParameter ExchangeOnly { get; set; }

    /// <summary>Put SharePoint back to the placeholder only; the Exchange photo stays.</summary>
    [Parameter]
    public SwitchParameter SharePointOnly { get; set; }

    /// <summary>Do not ask for each user (what -Confirm:$false does).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override string Operation => "Remove";
    protected override string Activity => "Removing profile photos";

    protected override void BeginProcessing()
    {
        if (ExchangeOnly && SharePointOnly)
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.InvalidParameter, "-ExchangeOnly and -SharePointOnly exclude each other: give one of them, or neither to remove the photo on both sides.", null));
        // -SharePointOnly does not go through Graph in the real run either (a departed user's profile may still be there).
        _resolveUsers = WhatIfRequested && !SharePointOnly;
        base.BeginProcessing();
    }

    private bool _resolveUsers;

    /// <summary>Nothing to read before asking, the confirmation comes first; -WhatIf resolves the user (a user Graph does not know fails the real run too).</summary>
    protected override async Task<Step> StartUser(UserRef user, object? row, CancellationToken cancellationToken) =>
        _resolveUsers && await Run.Services.Changes.FindUserAsync(user, cancellationToken).ConfigureAwait(false) is { } unresolved
            ? Step.Done(PhotoChangeService.NotResolved(user, Operation, null, unresolved))
            : Step.Ask(user);

    protected override void Decide(UserRef user)
    {
        var where = ExchangeOnly ? "Exchange photo" : SharePointOnly ? "SharePoint photo (back to the placeholder)" : "Exchange and SharePoint photos";
        var confirmAsked = MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && c is SwitchParameter { IsPresent: true };
        var reason = ShouldProcessReason.None;
        // -Force answers the prompt, as -Confirm:$false does; -WhatIf and an explicit -Confirm still win.
        if ((Force && !WhatIfRequested && !confirmAsked) || ShouldProcess($"Remove the {where} of '{user}'.", $"Remove the {where} of '{user}'?", "Remove-ProfilePhoto", out reason))
        {
            Run.Continue(user, writes: !ExchangeOnly, Remove);
            return;
        }
        WriteNotConfirmed(reason == ShouldProcessReason.WhatIf
            ? PhotoChangeService.WouldRemove(user, ExchangeOnly, SharePointOnly, "Nothing was removed (-WhatIf).")
            : PhotoChangeService.Declined(user, Operation, null));

        async Task<Step> Remove(CancellationToken ct) =>
            Step.Done(await Run.Services.Changes.RemoveAsync(user, ExchangeOnly, SharePointOnly, Options, ct).ConfigureAwait(false));
    }
}
