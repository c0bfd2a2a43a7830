using Azure.Core;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

/// <summary>Things that change between a user's check and sync, or in the middle of a run (issue 5).</summary>
public class MidRunTests
{
    [Fact]
    public async Task A_user_deleted_between_check_and_sync_fails_clearly_and_leaves_no_file_behind()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(EmulatorServiceTests.DemoScenario));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var user = UserRef.Parse("o'neil@contoso.com");
        var check = await connection.CreateRunServices().Photos.CheckAsync(user, new SyncOptions(), CancellationToken.None);
        Assert.Equal(PhotoState.Different, check.State.State);
        var filesBefore = emulator.State.FilePaths().ToHashSet();

        Assert.True(emulator.State.RemoveUser("o'neil@contoso.com"));
        var result = await connection.CreateRunServices().Photos.SyncAsync(check, new SyncOptions(), CancellationToken.None);

        Assert.Equal(SyncAction.Failed, result.Action);
        Assert.Equal(ErrorIds.SharePointProfileNotFound, result.ErrorId);
        Assert.Contains("deleted during the run", result.Error);
        Assert.Equal(filesBefore, emulator.State.FilePaths().ToHashSet());
    }

    /// <summary>A managed identity as Azure.Identity would use it: tokens from the emulator's identity endpoint.</summary>
    private sealed class EmulatorIdentityCredential(Emulator emulator) : TokenCredential
    {
        private static readonly HttpClient Http = new();
        public int Requests;
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();
        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            var resource = requestContext.Scopes[0].Replace("/.default", "");
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{emulator.IdentityUrl}?api-version=2019-08-01&resource={Uri.EscapeDataString(resource)}");
            request.Headers.Add("X-IDENTITY-HEADER", emulator.Identity.Header);
            using var response = await Http.SendAsync(request, cancellationToken);
            using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return new AccessToken(body.RootElement.GetProperty("access_token").GetString()!,
                DateTimeOffset.FromUnixTimeSeconds(long.Parse(body.RootElement.GetProperty("expires_on").GetString()!)));
        }
    }

    [Fact]
    public async Task Tokens_revoked_mid_run_are_renewed_once_and_the_run_completes()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(EmulatorServiceTests.DemoScenario));
        var credential = new EmulatorIdentityCredential(emulator);
        var endpoints = new ServiceEndpoints("contoso", emulator.GraphUrl, emulator.MySiteUrl, emulator.AdminUrl);
        using var connection = new ProfileSyncConnection(endpoints,
            new CredentialTokenSource(credential, endpoints.GraphScope, "test"), new CredentialTokenSource(credential, endpoints.SharePointScope, "test"), "ManagedIdentity");
        var users = new[] { "adele.vance@contoso.com", "o'neil@contoso.com", "jürgen@contoso.com", "megan.bowen@contoso.com" }.Select(UserRef.Parse).ToList();

        var run = connection.CreateRunServices();
        var first = await run.Photos.CheckAsync(users[0], new SyncOptions(), CancellationToken.None);
        Assert.Equal(PhotoState.InSync, first.State.State);
        Assert.Equal(2, credential.Requests);
        emulator.Identity.RevokeAll();
        foreach (var user in users.Skip(1))
        {
            var check = await run.Photos.CheckAsync(user, new SyncOptions(), CancellationToken.None);
            var result = await run.Photos.SyncAsync(check, new SyncOptions(), CancellationToken.None);
            Assert.True(result.Action is SyncAction.Updated or SyncAction.Skipped, $"{user}: {result.Action} {result.Error}");
        }
        Assert.Equal(4, credential.Requests); // one renewal per service after the revocation
        Assert.Null(run.Photos.StopFailure);
    }

    [Fact]
    public async Task A_pre_acquired_token_rejected_mid_run_stops_the_run_with_one_AuthenticationFailed()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Load(EmulatorServiceTests.DemoScenario));
        var credential = new EmulatorIdentityCredential(emulator);
        var endpoints = new ServiceEndpoints("contoso", emulator.GraphUrl, emulator.MySiteUrl, emulator.AdminUrl);
        // Tokens fetched once and handed over as pre-acquired ones: nothing can renew them.
        var graph = (await credential.GetTokenAsync(new TokenRequestContext(new[] { endpoints.GraphScope }), default)).Token;
        var sharePoint = (await credential.GetTokenAsync(new TokenRequestContext(new[] { endpoints.SharePointScope }), default)).Token;
        using var connection = new ProfileSyncConnection(endpoints, new PreAcquiredTokenSource(EmulatorServiceTests.Secure(graph)),
            new PreAcquiredTokenSource(EmulatorServiceTests.Secure(sharePoint)), "AccessToken");
        var run = connection.CreateRunServices();
        Assert.Equal(PhotoState.InSync, (await run.Photos.CheckAsync(UserRef.Parse("adele.vance@contoso.com"), new SyncOptions(), CancellationToken.None)).State.State);

        emulator.Identity.RevokeAll();
        var check = await run.Photos.CheckAsync(UserRef.Parse("o'neil@contoso.com"), new SyncOptions(), CancellationToken.None);
        Assert.Equal((PhotoState.Error, ErrorIds.AuthenticationFailed), (check.State.State, check.State.ErrorId));
        Assert.NotNull(run.Photos.StopFailure);
        Assert.True(run.Photos.StopFailure!.StopsRun);
        Assert.Equal(401, run.Photos.StopFailure.HttpStatus);
        Assert.DoesNotContain(graph, check.State.Reason);
    }
}
