using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// What Get-PhotoSyncState and Sync-ProfilePhoto share: binding users from strings or CSV rows,
/// validating them on the pipeline thread, running the work on a bounded set of workers, and
/// writing every result from the pipeline thread only. StopProcessing cancels the workers.
/// </summary>
public abstract class UserCommandBase : PSCmdlet
{
    internal const string AcceptedColumns = "UserPrincipalName, UPN, Mail, Email, Identity, UserId";

    private readonly HashSet<UserRef> _seen = new();
    private BoundedWorkQueue<object>? _queue;

    /// <summary>Users by UPN; from the pipeline as strings, or as CSV rows with one of the accepted columns.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("UPN", "Mail", "Email", "Identity", "UserId")]
    [AllowEmptyString, AllowNull, AllowEmptyCollection]
    public string?[] UserPrincipalName { get; set; } = Array.Empty<string>();

    /// <summary>Users checked at once. Each user's requests run one after another, so no mailbox sees more than one at a time.</summary>
    [Parameter]
    [ValidateRange(1, 32)]
    public int ThrottleLimit { get; set; } = 8;

    protected ProfileSyncConnection Connection { get; private set; } = null!;
    protected BoundedWorkQueue<object> Queue => _queue!;
    protected SyncOptions Options { get; set; } = new();

    protected override void BeginProcessing()
    {
        var connection = ProfileSyncSession.Current;
        if (connection is null)
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.NotConnected, "Not connected. Run Connect-ProfileSync first.", null,
                "Run Connect-ProfileSync -TenantName <name> with a sign-in method."));
        Connection = connection!;
        _queue = new BoundedWorkQueue<object>(ThrottleLimit, CancellationToken.None);
    }

    protected override void ProcessRecord()
    {
        foreach (var input in UserPrincipalName ?? Array.Empty<string?>())
        {
            if (!UserRef.TryParse(input, out var user, out var error))
            {
                if (input is not null && input.StartsWith("@{", StringComparison.Ordinal) && input.EndsWith('}'))
                    error = $"The input row {input} has no column ProfileSync recognises. Name the user column one of: {AcceptedColumns}.";
                WriteError(ErrorRecords.For(ErrorIds.InvalidUserPrincipalName, error, input,
                    "Correct the row (a UPN such as adele@contoso.com) and run again for it; the other rows go on."));
                continue;
            }
            if (!_seen.Add(user!))
            {
                WriteVerbose($"{user}: already in this run; checked once.");
                continue;
            }
            while (!Queue.HasCapacity) Handle(Take());
            Queue.Start(ct => StartUser(user!, ct), ex => Unexpected(user!, ex));
            while (Queue.TryTake(out var ready)) Handle(ready);
        }
    }

    protected override void EndProcessing()
    {
        while (Queue.HasPending) Handle(Take());
        var c = Connection.Counters;
        WriteVerbose($"Requests so far on this connection: Graph {c.GraphRequests}, SharePoint {c.SharePointRequests}; throttled answers: Graph {c.GraphThrottled}, SharePoint {c.SharePointThrottled}.");
        if (Connection.Library.DiscoveryNote is string note) WriteVerbose(note);
    }

    protected override void StopProcessing() => _queue?.Cancel();

    /// <summary>The first piece of work for a user, on a worker thread. Touches no PowerShell API.</summary>
    protected abstract Task<object> StartUser(UserRef user, CancellationToken cancellationToken);

    /// <summary>A result, on the pipeline thread.</summary>
    protected abstract void Handle(object result);

    /// <summary>What a worker's unexpected exception becomes, so the user still gets a result.</summary>
    protected abstract object Unexpected(UserRef user, Exception ex);

    private object Take()
    {
        try
        {
            return Queue.Take();
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    protected void WriteStateError(PhotoSyncState state)
    {
        var id = state.ErrorId ?? ErrorIds.CheckFailed;
        WriteError(ErrorRecords.For(id, $"{state.UserPrincipalName}: {state.Reason}", state.UserPrincipalName, ErrorRecords.RecommendedActionFor(id)));
    }

    protected static PhotoSyncState UnexpectedState(UserRef user, Exception ex) => new()
    {
        UserPrincipalName = user.UserPrincipalName,
        State = PhotoState.Error,
        ErrorId = ex is ProfileSyncException p ? p.ErrorId : ErrorIds.CheckFailed,
        Reason = ex is OperationCanceledException ? "The run was stopped before this user was checked." : $"{ex.GetType().Name}: {ex.Message}",
    };
}
