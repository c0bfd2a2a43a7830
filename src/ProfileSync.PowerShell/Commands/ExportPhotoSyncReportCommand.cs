using System.Management.Automation;
using System.Text;
using ProfileSync.Core;
using ProfileSync.Core.Reporting;
using ProfileSync.Core.Sync;

namespace ProfileSync.PowerShell.Commands;

public enum PhotoSyncReportFormat { Auto, Html, Csv }

/// <summary>
/// Writes the results of Get-PhotoSyncState, Sync-ProfilePhoto, Set-ProfilePhoto or Remove-ProfilePhoto
/// to one file: an HTML page with both photos side by side (self-contained), or a CSV. The file is
/// written whole or not at all, and not at all when no input was a result.
/// </summary>
[Cmdlet(VerbsData.Export, "PhotoSyncReport", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportPhotoSyncReportCommand : PSCmdlet, IDisposable
{
    private readonly List<ReportRow> _rows = new();
    private readonly CancellationTokenSource _stop = new();

    /// <summary>The file to write: .html or .htm gives HTML, .csv a CSV; another extension only with -Format.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>A result of Get-PhotoSyncState, Sync-ProfilePhoto, Set-ProfilePhoto or Remove-ProfilePhoto, from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    [Parameter]
    public PhotoSyncReportFormat Format { get; set; } = PhotoSyncReportFormat.Auto;

    /// <summary>An HTML report without photos: no request to either service.</summary>
    [Parameter]
    public SwitchParameter NoPhotos { get; set; }

    /// <summary>The page title; default "Profile photo report".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "Profile photo report";

    /// <summary>Users whose photos are fetched at once for an HTML report.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>A connection from Connect-ProfileSync -ReturnConnection to fetch photos with; default the current one.</summary>
    [Parameter]
    public ProfileSyncConnectionInfo? Connection { get; set; }

    /// <summary>Do not overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Write the report's FileInfo to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private string _path = "";
    private PhotoSyncReportFormat _format;
    private int _refused;

    // The path is judged before any input arrives: a wrong one stops the pipeline before the commands upstream do any work.
    protected override void BeginProcessing()
    {
        _path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var byExtension = ReportFormats.FromPath(_path);
        if (Format == PhotoSyncReportFormat.Auto && byExtension is null)
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.InvalidParameter,
                $"-Path '{Path}' ends in neither .html nor .csv: Export-PhotoSyncReport writes an HTML page (.html, .htm) or a CSV (.csv).", Path,
                "Give a -Path ending in .html or .csv (or say -Format Html or -Format Csv for another extension)."));
        _format = Format != PhotoSyncReportFormat.Auto ? Format : byExtension == ReportFormat.Csv ? PhotoSyncReportFormat.Csv : PhotoSyncReportFormat.Html;
    }

    protected override void ProcessRecord()
    {
        if (InputObject?.BaseObject is null) return;
        if (ReportRow.FromResult(InputObject.BaseObject) is { } row) { _rows.Add(row); return; }
        _refused++;
        WriteError(ErrorRecords.For(ErrorIds.ReportInputNotSupported,
            $"Export-PhotoSyncReport takes the results of {ReportRow.Producers}, not {InputObject.BaseObject.GetType().FullName} ('{InputObject}').",
            InputObject, $"Pipe {ReportRow.Producers} into Export-PhotoSyncReport; the other rows go on."));
    }

    protected override void EndProcessing()
    {
        var path = _path;
        var format = _format;
        if (_rows.Count == 0)
        {
            WriteWarning(_refused > 0
                ? $"No report written to '{path}': none of the {_refused} input object(s) was a result of {ReportRow.Producers}."
                : $"No report written to '{path}': no result came in.");
            return;
        }
        if (NoClobber && File.Exists(path))
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.ReportNotWritten, $"The report '{path}' exists and -NoClobber was given.", path,
                "Choose another -Path, or leave out -NoClobber to replace it."));
        if (!ShouldProcess(path, $"Write the {format.ToString().ToUpperInvariant()} report of {_rows.Count} users")) return;

        // What needs attention first (PhotoStateRules.AttentionOrder); by UPN within.
        var rows = _rows.OrderBy(r => r.AttentionOrder).ThenBy(r => r.UserPrincipalName, StringComparer.OrdinalIgnoreCase).ToList();
        var connection = Connection?.Connection ?? ProfileSyncSession.Current;
        ReportPhotoFetcher? fetcher = null;
        string? photoNote = null;
        if (format == PhotoSyncReportFormat.Html && !NoPhotos)
        {
            if (connection is null || connection.IsDisposed)
            {
                WriteWarning("Not connected: the report shows no photos. Run Connect-ProfileSync first, or pass -NoPhotos.");
                photoNote = "photos not shown (not connected)";
            }
            else
            {
                fetcher = new ReportPhotoFetcher(connection);
                WriteVerbose($"Fetching the photos: up to one 48x48 Exchange photo (Graph) and one SharePoint S thumbnail per user, {_rows.Count} users, {ThrottleLimit} at a time.");
            }
        }
        else if (format == PhotoSyncReportFormat.Html) photoNote = "photos not shown (-NoPhotos)";

        var before = connection?.Counters is { } c ? (Graph: c.GraphRequests, SharePoint: c.SharePointRequests) : (Graph: 0L, SharePoint: 0L);
        var temp = path + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var written = 0;
            var task = Task.Run(async () =>
            {
                await using var writer = new StreamWriter(temp, false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: format == PhotoSyncReportFormat.Csv));
                if (format == PhotoSyncReportFormat.Csv) CsvReport.Write(writer, rows);
                else
                    await HtmlReport.WriteAsync(writer, rows,
                        new HtmlReportInfo(Title, connection?.Endpoints.TenantName, DateTimeOffset.UtcNow, photoNote),
                        fetcher is null ? null : fetcher.FetchAsync, ThrottleLimit, n => Volatile.Write(ref written, n), _stop.Token).ConfigureAwait(false);
            });
            // The writer works on a worker; this thread reports progress and is the only one that writes to the host.
            while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(250))
            {
                var done = Volatile.Read(ref written);
                WriteProgress(new ProgressRecord(2, "Writing the photo report", $"{done} of {_rows.Count} users")
                { PercentComplete = _rows.Count == 0 ? 0 : (int)(done * 100L / _rows.Count) });
            }
            task.GetAwaiter().GetResult();
            File.Move(temp, path, overwrite: true);
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecords.For(ErrorIds.ReportNotWritten, $"The report '{path}' could not be written: {ex.Message}", path,
                "Choose a -Path in a folder that exists and that this account may write."));
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
            WriteProgress(new ProgressRecord(2, "Writing the photo report", "Done") { RecordType = ProgressRecordType.Completed });
        }
        if (fetcher is not null && connection is not null)
            WriteVerbose($"Photos fetched with {connection.Counters.GraphRequests - before.Graph} Graph and {connection.Counters.SharePointRequests - before.SharePoint} SharePoint requests.");
        var info = new FileInfo(path);
        WriteVerbose($"Wrote {_rows.Count} users to '{path}' ({info.Length / 1024.0:0.0} KB).");
        if (PassThru) WriteObject(info);
    }

    protected override void StopProcessing() => _stop.Cancel();

    public void Dispose() => _stop.Dispose();
}
