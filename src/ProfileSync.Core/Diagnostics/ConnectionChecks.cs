using System.Diagnostics;
using System.Text.Json;
using ProfileSync.Core.Exchange;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;
using ProfileSync.Core.SignIn;

namespace ProfileSync.Core.Diagnostics;

/// <summary>
/// What Test-ProfileSyncConnection checks, one method per check, each returning one
/// <see cref="ProfileSyncCheck"/> and never throwing for a failed check (only cancellation goes through).
/// <see cref="Steps"/> lists them in the order they run; a later check may use what an earlier one
/// found (the profile, the photo folder) and is skipped, naming it, when that is missing. To add a
/// check: write its method and add its line to <see cref="Steps"/>.
/// </summary>
public sealed class ConnectionChecks
{
    public const string Graph = "Graph", SharePoint = "SharePoint";

    /// <summary>One check as the cmdlet runs it. <see cref="Writes"/> (what it changes, for ShouldProcess) is set for checks that write.</summary>
    public sealed record Step(string Name, string Service, Func<CancellationToken, Task<ProfileSyncCheck>> Run, string? Writes = null)
    {
        public bool IsWrite => Writes is not null;
    }

    private const string GraphAppId = "00000003-0000-0000-c000-000000000000";
    private const string SharePointAppId = "00000003-0000-0ff1-ce00-000000000000";
    private static readonly byte[] TestFileContent = "ProfileSync connection test. Safe to delete."u8.ToArray();

    private readonly ProfileSyncConnection _connection;
    private readonly UserRef _user;
    private readonly TimeProvider _clock;
    // What later checks need from earlier ones.
    private readonly HashSet<string> _rejectedTokens = new(StringComparer.Ordinal);
    private SharePointProfile? _profile;
    private string? _photoFolder;

    public ConnectionChecks(ProfileSyncConnection connection, UserRef testUser, TimeProvider? clock = null)
    {
        _connection = connection;
        _user = testUser;
        _clock = clock ?? TimeProvider.System;
        Steps = new Step[]
        {
            new("Graph token", Graph, GraphTokenAsync),
            new("SharePoint token", SharePoint, SharePointTokenAsync),
            new("Graph user read", Graph, GraphUserAsync),
            new("Graph photo read", Graph, GraphPhotoAsync),
            new("My Site host", SharePoint, MySiteHostAsync),
            new("Photo folder", SharePoint, PhotoFolderAsync),
            new("Profile read", SharePoint, ProfileReadAsync),
            new("People search", SharePoint, PeopleSearchAsync),
            new("Profile write", SharePoint, ProfileWriteAsync, $"Set SPS-PictureTimestamp of '{testUser}' to the value it already has"),
            new("Upload", SharePoint, UploadAsync, "Upload one tiny test file into the photo folder, then move it to the recycle bin"),
        };
    }

    public IReadOnlyList<Step> Steps { get; }

    public UserRef TestUser => _user;

    /// <summary>A check that did not run, and why (-ReadOnly, -WhatIf, declined).</summary>
    public static ProfileSyncCheck Skipped(Step step, string why) =>
        new() { Check = step.Name, Service = step.Service, Status = CheckStatus.Skipped, Detail = why };

    /// <summary>The one-line summary the cmdlet writes as verbose text.</summary>
    public static string Summary(IReadOnlyList<ProfileSyncCheck> checks, TimeSpan elapsed)
    {
        var failed = checks.Where(c => c.Status == CheckStatus.Failed).Select(c => c.Check).ToList();
        var skipped = checks.Count(c => c.Status == CheckStatus.Skipped);
        return $"Test-ProfileSyncConnection: {checks.Count} checks, {checks.Count(c => c.Passed)} passed, {failed.Count} failed" +
            (failed.Count > 0 ? $" ({string.Join(", ", failed)})" : "") + $", {skipped} skipped, in {elapsed.TotalSeconds:0.0} s.";
    }

    // ---------- the checks ----------

    /// <summary>The Graph token: audience, expiry, kind read locally; then one request (the test user's id) to see that Graph accepts it.</summary>
    public Task<ProfileSyncCheck> GraphTokenAsync(CancellationToken cancellationToken) =>
        TokenAsync("Graph token", Graph, _connection.GraphToken, _connection.Endpoints.GraphScope, GraphAppId,
            ct => _connection.Exchange.GetUserAsync(_user, ct), cancellationToken);

    /// <summary>The SharePoint token: the same, with the My Site host's root web as the request.</summary>
    public Task<ProfileSyncCheck> SharePointTokenAsync(CancellationToken cancellationToken) =>
        TokenAsync("SharePoint token", SharePoint, _connection.SharePointToken, _connection.Endpoints.SharePointScope, SharePointAppId,
            ct => _connection.SharePoint.GetMySiteUrlAsync(ct), cancellationToken);

    /// <summary>Graph GET /users/{upn}: the directory read -All needs, and that the test user exists.</summary>
    public Task<ProfileSyncCheck> GraphUserAsync(CancellationToken cancellationToken) =>
        RunAsync("Graph user read", Graph, NeedsToken(Graph), async () =>
        {
            var found = await _connection.Exchange.GetUserAsync(_user, cancellationToken).ConfigureAwait(false);
            if (found is null)
                return Fail($"Graph knows no user '{_user}'.", "Give -TestUser the user principal name of an existing user with a mailbox (guests look like name_domain#EXT#@tenant.onmicrosoft.com).");
            return Pass(found.HasMail ? "Graph read the test user; it has a mail address (a mailbox)."
                : "Graph read the test user, but it has no mail address: without a mailbox it has no Exchange photo. Choose a user with a mailbox for a full test.");
        });

    /// <summary>Graph GET /users/{upn}/photo: the photo metadata every check and sync reads first.</summary>
    public Task<ProfileSyncCheck> GraphPhotoAsync(CancellationToken cancellationToken) =>
        RunAsync("Graph photo read", Graph, NeedsToken(Graph), async () =>
        {
            var info = await _connection.Exchange.GetPhotoInfoAsync(_user, cancellationToken).ConfigureAwait(false);
            return info.Status switch
            {
                ExchangePhotoStatus.Found => Pass($"Photo metadata read: {info.Width}x{info.Height} {info.ContentType}."),
                ExchangePhotoStatus.NoPhoto => Pass($"Photo metadata may be read; the test user has no photo. {info.Reason}"),
                _ => Fail(info.Reason ?? $"Graph knows no user '{_user}'.", "Give -TestUser the user principal name of an existing user with a mailbox."),
            };
        });

    /// <summary>SharePoint GET {mysite}/_api/web: the My Site host answers as a SharePoint site, at the address it was given.</summary>
    public Task<ProfileSyncCheck> MySiteHostAsync(CancellationToken cancellationToken) =>
        RunAsync("My Site host", SharePoint, NeedsToken(SharePoint), async () =>
        {
            var host = _connection.Endpoints.MySiteHost;
            var url = await _connection.SharePoint.GetMySiteUrlAsync(cancellationToken).ConfigureAwait(false);
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var answered))
                return Fail($"{host.Host} answered, but not as a SharePoint site (no Url in its answer).", "Check -MySiteHostUrl (https://TENANT-my.sharepoint.com) or -TenantName of Connect-ProfileSync.");
            if (!UrlText.SameAuthority(answered, host))
                return Fail($"{host.Host} answered as the site {answered.Host}.", $"Connect with -MySiteHostUrl {answered.GetLeftPart(UriPartial.Authority)}.");
            return Pass($"{host.Host} answered as a SharePoint site.");
        });

    /// <summary>The User Photos library's folders, and the photo folder new thumbnails go to (-PhotoFolder, or discovered).</summary>
    public Task<ProfileSyncCheck> PhotoFolderAsync(CancellationToken cancellationToken) =>
        RunAsync("Photo folder", SharePoint, NeedsToken(SharePoint), async () =>
        {
            var library = _connection.Library;
            var folders = await _connection.SharePoint.ListFoldersAsync(library.LibraryUrl, cancellationToken).ConfigureAwait(false);
            var folder = await library.GetPhotoFolderAsync(cancellationToken).ConfigureAwait(false);
            var match = folders.FirstOrDefault(f => f.ServerRelativeUrl.TrimEnd('/').Equals(folder, StringComparison.OrdinalIgnoreCase));
            if (match is null)
                return Fail($"The photo folder '{folder}' is not a folder of '{library.LibraryUrl}' (it has {folders.Count}: {string.Join(", ", folders.Select(f => "'" + f.Name + "'"))}).",
                    "Give Connect-ProfileSync -PhotoFolder a folder of the My Site host's 'User Photos' library, as the library shows it.");
            _photoFolder = folder;
            var how = library.HasConfiguredFolder ? "given by -PhotoFolder" : "discovered";
            var size = match.ItemCount >= 4500 ? $"; {match.ItemCount:N0} items, near the list view threshold (5,000): consider a new folder (-PhotoFolder)" : $"; {match.ItemCount:N0} items";
            return Pass($"'{folder}' ({how}{size}); '{library.LibraryUrl}' has {folders.Count} folder(s).");
        });

    /// <summary>SharePoint GetPropertiesFor of the test user: the read every check makes.</summary>
    public Task<ProfileSyncCheck> ProfileReadAsync(CancellationToken cancellationToken) =>
        RunAsync("Profile read", SharePoint, NeedsToken(SharePoint), async () =>
        {
            var profile = await _connection.SharePoint.GetProfileAsync(_user, cancellationToken).ConfigureAwait(false);
            if (profile is null)
                return Fail("SharePoint has no profile for the test user, so profile reads and writes could not be tested.",
                    ErrorCatalog.For(ErrorIds.SharePointProfileNotFound).RecommendedAction + " Or give -TestUser a user who has used SharePoint or OneDrive.");
            _profile = profile;
            return Pass($"Profile read; PictureURL {(string.IsNullOrEmpty(profile.PictureUrl) ? "empty" : "set")}, placeholder {(profile.ShowsPlaceholder ? "shown" : "not shown")}.");
        });

    /// <summary>
    /// SharePoint People search, which bulk runs may use to read 500 profiles a request: one row asked
    /// for. Refused or empty (reported for app-only people search in some tenants) fails the check with
    /// what it costs; nothing stops working, profiles are then read one by one.
    /// </summary>
    public Task<ProfileSyncCheck> PeopleSearchAsync(CancellationToken cancellationToken) =>
        RunAsync("People search", SharePoint, NeedsToken(SharePoint), async () =>
        {
            var probe = await new PeopleSearch(_connection.SharePoint).ProbeAsync(cancellationToken).ConfigureAwait(false);
            const string cost = "Nothing stops working: bulk runs then read profiles one by one (one PeopleManager call per user).";
            return probe.Outcome switch
            {
                PeopleSearchOutcome.Answered => Pass($"{probe}: bulk runs can read 500 profiles a request."),
                PeopleSearchOutcome.Empty => Fail($"{probe}: an empty index, or app-only people search failing silently (reported in some tenants).",
                    cost + " If users exist, try a delegated sign-in, or check the search schema and crawl of user profiles."),
                _ => Fail(probe.ToString(), cost + " To use search, " + (probe.Failure?.RecommendedAction ?? "check the sign-in's SharePoint read permission."), probe.Failure),
            };
        });

    /// <summary>
    /// The right to write other users' profiles, proven with the sync's own harmless write (the test
    /// user's SPS-PictureTimestamp set to the value it already has). A refusal, in either shape, fails
    /// with the advice for the sign-in kind in use.
    /// </summary>
    public Task<ProfileSyncCheck> ProfileWriteAsync(CancellationToken cancellationToken) =>
        RunAsync("Profile write", SharePoint, () => NeedsToken(SharePoint)() ?? (_profile is null ? "Not run: it needs the test user's profile (see 'Profile read')." : null), async () =>
        {
            try
            {
                await ProfileWriteRights.ProveAsync(_connection.SharePoint, _user, _profile!, cancellationToken).ConfigureAwait(false);
            }
            catch (ProfileSyncException ex) when (ex.ErrorId == ErrorIds.ProfileWriteRefused)
            {
                return Fail(ex.Message, ex.RecommendedAction!, ex.Failure);
            }
            return Pass($"SharePoint let this sign-in ({SignInKinds.Describe(_connection.SharePoint.SignIn)}) write another user's profile: SPS-PictureTimestamp of the test user, rewritten with the value it already had.");
        });

    /// <summary>The right to add files to the photo folder: one tiny file under a new name, uploaded, then recycled.</summary>
    public Task<ProfileSyncCheck> UploadAsync(CancellationToken cancellationToken) =>
        RunAsync("Upload", SharePoint, () => NeedsToken(SharePoint)() ?? (_photoFolder is null ? "Not run: it needs the photo folder (see 'Photo folder')." : null), async () =>
        {
            var name = $"ProfileSync-connection-test-{Guid.NewGuid():N}.txt";
            var path = _photoFolder + "/" + name;
            await _connection.SharePoint.UploadFileAsync(_photoFolder!, name, TestFileContent, cancellationToken).ConfigureAwait(false);
            try
            {
                await _connection.SharePoint.RecycleFileAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (ProfileSyncException ex)
            {
                return Fail($"The test file was uploaded, but could not be moved to the recycle bin: {ex.Message}",
                    $"Delete '{path}' from the My Site host's 'User Photos' library. A sync recycles the thumbnails it replaces: {ex.RecommendedAction}", ex.Failure);
            }
            return Pass($"Uploaded a {TestFileContent.Length}-byte test file into '{_photoFolder}' and moved it to the recycle bin.");
        });

    // ---------- plumbing ----------

    private readonly record struct Verdict(bool Ok, string Detail, string? Remedy, Failure? Failure);

    private static Verdict Pass(string detail) => new(true, detail, null, null);
    private static Verdict Fail(string detail, string remedy, Failure? failure = null) => new(false, detail, remedy, failure);

    private Func<string?> NeedsToken(string service) => () =>
        _rejectedTokens.Contains(service) ? $"Not run: {service} rejected the token (see '{service} token')." : null;

    /// <summary>Times one check and turns any failure into a failed result; only cancellation is thrown.</summary>
    private async Task<ProfileSyncCheck> RunAsync(string name, string service, Func<string?> skipWhen, Func<Task<Verdict>> check)
    {
        if (skipWhen() is string why) return new ProfileSyncCheck { Check = name, Service = service, Status = CheckStatus.Skipped, Detail = why };
        var watch = Stopwatch.StartNew();
        Verdict verdict;
        try
        {
            verdict = await check().ConfigureAwait(false);
        }
        catch (ProfileSyncException ex)
        {
            verdict = Fail(ex.Message, ex.RecommendedAction ?? ErrorCatalog.For(ex.ErrorId).RecommendedAction, ex.Failure);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failure = Failure.FromUnexpected(ex, ErrorIds.CheckFailed, "stopped");
            verdict = Fail(failure.Message, failure.RecommendedAction, failure);
        }
        return new ProfileSyncCheck
        {
            Check = name, Service = service, Status = verdict.Ok ? CheckStatus.Passed : CheckStatus.Failed,
            Detail = verdict.Detail, Remedy = verdict.Remedy, Failure = verdict.Failure, Duration = watch.Elapsed,
        };
    }

    /// <summary>
    /// A token read locally (never validated, never shown): audience, expiry, app-only or delegated; then
    /// one request, which fails the check only when the service rejects the token (401). An opaque token
    /// (not a JWT) passes with "kind unknown": only the service can judge it.
    /// </summary>
    private Task<ProfileSyncCheck> TokenAsync(string name, string service, IAccessTokenSource source, string scope, string appId,
        Func<CancellationToken, Task> probe, CancellationToken cancellationToken) =>
        RunAsync(name, service, () => null, async () =>
        {
            string token;
            try
            {
                token = await source.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ProfileSyncException)
            {
                _rejectedTokens.Add(service);
                throw;
            }
            var isJwt = JwtPayload.Read<bool?>(token, _ => true) == true;
            var audience = JwtPayload.Read(token, root => root.TryGetProperty("aud", out var aud)
                ? aud.ValueKind == JsonValueKind.Array ? aud.EnumerateArray().Select(a => a.ToString()).FirstOrDefault() : aud.ToString()
                : null);
            var kind = SignInKinds.OfAccessToken(token);
            var expires = source.ExpiresOn;
            var expected = scope.EndsWith("/.default", StringComparison.Ordinal) ? scope[..^"/.default".Length] : scope;
            var parts = new List<string>
            {
                isJwt ? $"audience {audience ?? "(none)"}, {SignInKinds.Describe(kind)}" : "not a JWT, kind unknown",
                expires is DateTimeOffset at ? $"expires {at.ToUniversalTime():yyyy-MM-dd HH:mm} UTC (in {Math.Max(0, (at - _clock.GetUtcNow()).TotalMinutes):0} min)" : "expiry unknown",
            };
            if (isJwt && audience is not null && !AudienceMatches(audience, expected, appId))
            {
                _rejectedTokens.Add(service);
                return Fail($"The {service} token is for '{audience}', not for {expected} ({string.Join("; ", parts)}).",
                    $"Run Connect-ProfileSync again with a token for {expected} (scope {scope}).");
            }
            if (expires is DateTimeOffset end && end <= _clock.GetUtcNow())
            {
                _rejectedTokens.Add(service);
                return Fail($"The {service} token has expired ({string.Join("; ", parts)}).", "Run Connect-ProfileSync again.");
            }
            try
            {
                await probe(cancellationToken).ConfigureAwait(false);
                parts.Add($"accepted by {service}");
            }
            catch (ProfileSyncException ex) when (ex.StatusCode == 401)
            {
                _rejectedTokens.Add(service);
                return Fail($"{service} rejected the token (401) ({string.Join("; ", parts)}). {ex.Message}",
                    $"Run Connect-ProfileSync again; check that the token is for this tenant and for {expected}.", ex.Failure);
            }
            catch (ProfileSyncException ex) when (ex.StatusCode is int status)
            {
                parts.Add($"accepted by {service} (it answered {status}; the checks below tell what is missing)");
            }
            return Pass(string.Join("; ", parts) + ".");
        });

    private static bool AudienceMatches(string audience, string expected, string appId)
    {
        var aud = audience.TrimEnd('/');
        return aud.Equals(expected.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)
            || aud.Equals(appId, StringComparison.OrdinalIgnoreCase)
            || aud.StartsWith(appId + "/", StringComparison.OrdinalIgnoreCase);
    }
}
