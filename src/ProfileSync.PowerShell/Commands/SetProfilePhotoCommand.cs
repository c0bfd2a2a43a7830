using System.Management.Automation;
using ProfileSync.Core;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sources;
using ProfileSync.Core.Sync;
using Step = ProfileSync.Core.Runs.UserStep<ProfileSync.Core.Sync.PhotoToSet, ProfileSync.Core.Sync.PhotoChangeResult>;

namespace ProfileSync.PowerShell.Commands;

/// <summary>
/// Sets users' photos from files or URLs, in Exchange (Graph) and SharePoint in one step. Each row is
/// read and prepared on a worker (header check, EXIF orientation, square, at most 648 pixels, JPEG);
/// the confirmation is asked on the pipeline thread; then Exchange is written, then SharePoint with
/// Sync-ProfilePhoto's writer. -WhatIf reads and checks every photo and writes nothing.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ProfilePhoto", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByUserSet)]
[OutputType(typeof(PhotoChangeResult))]
public sealed class SetProfilePhotoCommand : PhotoChangeCommandBase<PhotoToSet>
{
    /// <summary>A photo file (JPEG, PNG, GIF, BMP, WebP). From CSV rows: a Path, PhotoPath or File column.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PhotoPath", "File")]
    [AllowEmptyString, AllowNull]
    public string? Path { get; set; }

    /// <summary>An https URL of the photo. From CSV rows: a Url or SourceUrl column.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("SourceUrl")]
    [AllowEmptyString, AllowNull]
    public string? Url { get; set; }

    /// <summary>Write SharePoint only, not Exchange (users without a mailbox, or a SharePoint photo that must differ).</summary>
    [Parameter]
    public SwitchParameter SharePointOnly { get; set; }

    /// <summary>Also read http:// URLs (never recommended outside a trusted network).</summary>
    [Parameter]
    public SwitchParameter AllowHttp { get; set; }

    /// <summary>Bytes a source may have, in MB.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int MaxSourceMB { get; set; } = 20;

    /// <summary>Seconds a URL may take, redirects included.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSeconds { get; set; } = 30;

    private UrlFetchPolicy _policy = new();
    private bool _resolveUsers;

    protected override string Operation => "Set";
    protected override string Activity => "Setting profile photos";

    protected override void BeginProcessing()
    {
        _policy = new UrlFetchPolicy { AllowHttp = AllowHttp, MaxBytes = MaxSourceMB * 1024L * 1024L, Timeout = TimeSpan.FromSeconds(TimeoutSeconds) };
        // -SharePointOnly does not go through Graph in the real run either (a departed user's profile may still be there).
        _resolveUsers = WhatIfRequested && !SharePointOnly;
        base.BeginProcessing();
    }

    /// <summary>The row's photo source, checked here so a bad row is an error naming it, and the rest goes on.</summary>
    private PhotoFileOrUrl? _rowSource;

    protected override void ProcessRecord()
    {
        var (source, errorId, problem) = ReadSource();
        _rowSource = source;
        if (source is null)
        {
            // The row still counts: the next rows keep their numbers.
            var index = NextInputIndex();
            for (var more = (UserPrincipalName?.Length ?? 0) - 1; more > 0; more--) NextInputIndex();
            var row = string.Join(", ", (UserPrincipalName ?? Array.Empty<string?>()).Where(u => !string.IsNullOrWhiteSpace(u)));
            WriteError(ErrorRecords.From(Failure.Of(errorId!, $"Row {index} ({(row.Length > 0 ? row : "no user")}): {problem}.") with { InputIndex = index }, row.Length > 0 ? row : "the row"));
            return;
        }
        base.ProcessRecord();
    }

    /// <summary>The row's one source, or the ErrorId and words of what is wrong with it.</summary>
    private (PhotoFileOrUrl? Source, string? ErrorId, string? Problem) ReadSource()
    {
        var hasPath = !string.IsNullOrWhiteSpace(Path);
        var hasUrl = !string.IsNullOrWhiteSpace(Url);
        if (hasPath && hasUrl) return (null, ErrorIds.NoPhotoSource, "the row names both a file and a URL; give one");
        if (hasPath) return (new PhotoFileOrUrl(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!.Trim()), null), null, null);
        if (!hasUrl) return (null, ErrorIds.NoPhotoSource, "the row names no photo (a Path, PhotoPath, File, Url or SourceUrl column)");
        if (!Uri.TryCreate(Url!.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
            return (null, ErrorIds.PhotoSourceRefused, $"'{Url}' is not an http(s) URL");
        return (new PhotoFileOrUrl(null, url), null, null);
    }

    protected override object? RowData() => _rowSource;

    protected override void OnDuplicate(UserRef user, object? row) =>
        WriteError(ErrorRecords.For(ErrorIds.DuplicateUser, $"{user} appears more than once in this input; the first row's photo is used, this one ({row}) is not.",
            user.UserPrincipalName));

    /// <summary>Phase one, on a worker: (-WhatIf) resolve the user, then read and prepare the photo. Nothing is written.</summary>
    protected override async Task<Step> StartUser(UserRef user, object? row, CancellationToken cancellationToken)
    {
        var source = (PhotoFileOrUrl)row!;
        try
        {
            // A dry run reports what the real one would meet: a user Graph does not know fails there, so here too.
            if (_resolveUsers && await Run.Services.Changes.FindUserAsync(user, cancellationToken).ConfigureAwait(false) is { } unresolved)
                return Step.Done(PhotoChangeService.NotResolved(user, Operation, Display(source), unresolved));
            var bytes = await ActiveConnection.Sources.ReadAsync(source, _policy, cancellationToken).ConfigureAwait(false);
            return Step.Ask(new PhotoToSet(user, Display(source), PhotoPreparer.Prepare(bytes, Options.Limits, $"photo '{Display(source)}'")));
        }
        catch (ProfileSyncException ex)
        {
            return Step.Done(PhotoChangeService.Failed(user, Operation, Display(source), ex.Failure));
        }
    }

    protected override void Decide(PhotoToSet prepared)
    {
        var user = prepared.User.UserPrincipalName;
        var where = SharePointOnly ? "SharePoint" : "Exchange and SharePoint";
        var what = $"Set the {where} photo of '{user}' from '{prepared.Source}' ({PhotoChangeService.Describe(prepared.Photo)}).";
        if (ShouldProcess(what, $"Set the {where} photo of '{user}'?", "Set-ProfilePhoto", out var reason))
            Run.Continue(prepared.User, writes: true, async ct => Step.Done(await Run.Services.Changes.SetAsync(prepared.User, prepared.Photo, prepared.Source, SharePointOnly, Options, ct).ConfigureAwait(false)));
        else
            WriteNotConfirmed(reason == ShouldProcessReason.WhatIf
                ? PhotoChangeService.WouldSet(prepared.User, prepared.Photo, prepared.Source, SharePointOnly, "The photo was read and checked; nothing was written (-WhatIf).")
                : PhotoChangeService.Declined(prepared.User, Operation, prepared.Source));
    }

    /// <summary>A source as shown in results and messages: a URL without its query (a signed URL's query is a secret).</summary>
    private static string Display(PhotoFileOrUrl source) => source.Path ?? source.Url!.GetLeftPart(UriPartial.Path);
}
