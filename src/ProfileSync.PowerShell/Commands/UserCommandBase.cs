using System.Management.Automation;
using ProfileSync.Core.Runs;

namespace ProfileSync.PowerShell.Commands;

/// <summary>Get-PhotoSyncState and Sync-ProfilePhoto: the per-user pipeline, plus -All.</summary>
public abstract class UserCommandBase<TPending, TOutcome> : UserPipelineCommandBase<TPending, TOutcome>
    where TPending : class where TOutcome : class, IUserOutcome
{
    /// <summary>
    /// Every enabled member of the tenant with a mailbox (Graph filter "accountEnabled eq true and
    /// userType eq 'Member' and mail ne null"), streamed page by page, numbered in listing order.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <summary>With -All: disabled accounts too (shared, room and equipment mailboxes, leavers). Guests are never listed.</summary>
    [Parameter(ParameterSetName = AllSet)]
    public SwitchParameter IncludeDisabled { get; set; }

    protected override bool IncludeDisabledAccounts => IncludeDisabled;

    /// <summary>
    /// Reads every user's profile one by one (a PeopleManager call each) instead of through People search
    /// in bulk runs: for the hours after a change the search index cannot know yet.
    /// </summary>
    [Parameter]
    public SwitchParameter ReadEachProfile { get; set; }

    protected override bool BulkProfileReads => !ReadEachProfile;
}
