using System.Management.Automation;
using ProfileSync.Core.Runs;

namespace ProfileSync.PowerShell.Commands;

/// <summary>Get-PhotoSyncState and Sync-ProfilePhoto: the per-user pipeline, plus -All.</summary>
public abstract class UserCommandBase<TPending, TOutcome> : UserPipelineCommandBase<TPending, TOutcome>
    where TPending : class where TOutcome : class, IUserOutcome
{
    /// <summary>Every user of the tenant that has a mailbox (Graph filter "mail ne null"), streamed page by page.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <summary>
    /// Reads every user's profile one by one (a PeopleManager call each) instead of through People search
    /// in bulk runs: for the hours after a change the search index cannot know yet.
    /// </summary>
    [Parameter]
    public SwitchParameter ReadEachProfile { get; set; }

    protected override bool BulkProfileReads => !ReadEachProfile;
}
