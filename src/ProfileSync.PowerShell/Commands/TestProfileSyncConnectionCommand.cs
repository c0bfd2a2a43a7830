using System.Diagnostics;
using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Diagnostics;
using ProfileSync.Core.Identity;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Checks a connection before the first run in a tenant: both tokens, Graph user and photo reads,
/// the My Site host and photo folder, a profile read and (unless -ReadOnly) the profile-write and
/// upload rights, each as one ProfileSyncCheck. A failed check is a result, not an error; only "not
/// connected" is terminating. The checks are the core's (ConnectionChecks); this binds, asks
/// ShouldProcess for the two that write, and writes.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ProfileSyncConnection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ProfileSyncCheck), typeof(bool))]
public sealed class TestProfileSyncConnectionCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>A user with a mailbox and a SharePoint profile; only its SPS-PictureTimestamp is rewritten, with the value it already has.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("UserPrincipalName", "UPN")]
    [ValidateNotNullOrEmpty]
    public string TestUser { get; set; } = "";

    /// <summary>Only the checks that read: no profile write, no upload.</summary>
    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    /// <summary>A JSON file of the shapes of the requests and answers seen (no token, no personal data), for a bug report.</summary>
    [Parameter, ValidateNotNullOrEmpty]
    public string? ReportPath { get; set; }

    /// <summary>Write one bool (every check that ran passed) instead of the results.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>A connection from Connect-ProfileSync -ReturnConnection; default the session's current one.</summary>
    [Parameter]
    public ProfileSyncConnectionInfo? Connection { get; set; }

    protected override void EndProcessing()
    {
        var connection = (Connection?.Connection ?? ProfileSyncSession.Current) is { IsDisposed: false } c ? c
            : throw Terminating(Failure.Of(ErrorIds.NotConnected, "Not connected. Run Connect-ProfileSync first."), null);
        if (!UserRef.TryParse(TestUser, out var user, out var error))
            throw Terminating(Failure.Of(ErrorIds.InvalidParameter, $"-TestUser '{TestUser}': {error}",
                "Give -TestUser the user principal name of a user with a mailbox and a SharePoint profile."), TestUser);

        var checks = new ConnectionChecks(connection, user!);
        var report = ReportPath is null ? null : new ConnectionReport(connection.Endpoints, user!);
        var results = new List<ProfileSyncCheck>();
        var watch = Stopwatch.StartNew();
        using (report is null ? null : connection.Pipeline.Record(report))
        {
            foreach (var step in checks.Steps)
            {
                var result = step.IsWrite ? RunWrite(step, connection) : Run(step);
                results.Add(result);
                if (!Quiet) WriteObject(result);
            }
        }
        if (report is not null) WriteReport(report, results);
        WriteVerbose(ConnectionChecks.Summary(results, watch.Elapsed));
        if (Quiet) WriteObject(results.All(r => r.Status != CheckStatus.Failed));
    }

    private ProfileSyncCheck RunWrite(ConnectionChecks.Step step, ProfileSyncConnection connection)
    {
        if (ReadOnly) return ConnectionChecks.Skipped(step, "Not run: -ReadOnly.");
        var target = step.Name == "Upload" ? $"the photo folder of {connection.Endpoints.MySiteHost.Host}" : TestUser;
        if (ShouldProcess(target, step.Writes)) return Run(step);
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && w is SwitchParameter { IsPresent: true };
        return ConnectionChecks.Skipped(step, whatIf ? $"Not run: -WhatIf. Would: {step.Writes}." : "Not run: declined.");
    }

    private ProfileSyncCheck Run(ConnectionChecks.Step step)
    {
        try
        {
            return step.Run(_stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    private void WriteReport(ConnectionReport report, IReadOnlyList<ProfileSyncCheck> results)
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ReportPath!);
        try
        {
            var version = MyInvocation.MyCommand.Module?.Version?.ToString() ?? typeof(ConnectionReport).Assembly.GetName().Version?.ToString(3) ?? "";
            File.WriteAllText(path, report.ToJson(results, version), new System.Text.UTF8Encoding(false));
            WriteVerbose($"Report of {report.Count} request(s) written to {path}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            WriteError(ErrorRecords.For(ErrorIds.ReportNotWritten, $"The report could not be written to '{path}': {ex.Message}", ReportPath));
        }
    }

    protected override void StopProcessing() => _stop.Cancel();

    public void Dispose() => _stop.Dispose();

    private PipelineStoppedException Terminating(Failure failure, object? target)
    {
        ThrowTerminatingError(ErrorRecords.From(failure, target));
        return new PipelineStoppedException(); // not reached
    }
}
