using ProfileSync.Core.Exchange;
using ProfileSync.Core.Identity;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sync;
using ProfileSync.TenantEmulator;
using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>Graph's error answers are read in one place; an unknown user is UserNotFound on reads and writes alike.</summary>
public class GraphWireFormatTests
{
    [Fact]
    public void Error_bodies_are_read_from_text_and_from_a_batch_item()
    {
        Assert.Equal(("ImageNotFound", "gone"), GraphWireFormat.ReadError("""{"error":{"code":"ImageNotFound","message":"gone","innerError":{"request-id":"x"}}}"""));
        Assert.Equal((null, null), GraphWireFormat.ReadError("<html>Bad gateway</html>"));
        Assert.Equal((null, null), GraphWireFormat.ReadError(""));
        Assert.Equal((null, null), GraphWireFormat.ReadError("""{"value":[]}"""));
        using var item = System.Text.Json.JsonDocument.Parse("""{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}""");
        Assert.Equal(("Request_ResourceNotFound", "Resource 'x' does not exist."), GraphWireFormat.ReadError(item.RootElement));
    }

    [Theory]
    [InlineData(404, "ImageNotFound", GraphErrorMeaning.NoPhoto)]
    [InlineData(404, "ErrorItemNotFound", GraphErrorMeaning.NoPhoto)]
    [InlineData(404, "ErrorEntityNotFound", GraphErrorMeaning.NoPhoto)]
    [InlineData(404, "ConsumerPhotoIsNotSupported", GraphErrorMeaning.NoPhoto)]
    [InlineData(404, "Request_ResourceNotFound", GraphErrorMeaning.UnknownUser)]
    [InlineData(404, "ResourceNotFound", GraphErrorMeaning.UnknownUser)]
    [InlineData(404, "ErrorInvalidUser", GraphErrorMeaning.UnknownUser)]
    [InlineData(404, "", GraphErrorMeaning.UnknownUser)]
    [InlineData(404, "MailboxNotEnabledForRESTAPI", GraphErrorMeaning.NoMailbox)]
    [InlineData(400, "Request_ResourceNotFound", GraphErrorMeaning.Failure)]
    [InlineData(403, "ErrorAccessDenied", GraphErrorMeaning.Failure)]
    [InlineData(404, "BadRequest", GraphErrorMeaning.Failure)]
    public void Codes_mean_no_photo_unknown_user_or_failure(int status, string code, GraphErrorMeaning meaning) =>
        Assert.Equal(meaning, GraphWireFormat.Classify(status, code));

    private static PreparedPhoto Photo() => PhotoPreparer.Prepare(TestImages.Solid(120, 120, SKColors.Teal), ImageLimits.Default, "photo");

    [Theory]
    [InlineData("nobody@contoso.com")]        // not in the tenant at all
    [InlineData("left.company@contoso.com")]  // a UPN that Graph no longer knows
    public async Task Setting_and_removing_the_photo_of_an_unknown_user_is_UserNotFound_and_writes_nothing(string upn)
    {
        var scenario = Scenario.Parse("""
        { "users": [ { "upn": "left.company@contoso.com", "inGraph": false, "sharePoint": "none" },
                     { "upn": "adele@contoso.com", "sharePoint": "none" } ] }
        """);
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var user = UserRef.Parse(upn);

        var set = await Assert.ThrowsAsync<ProfileSyncException>(() => connection.Exchange.SetPhotoAsync(user, Photo().Jpeg, CancellationToken.None));
        var remove = await Assert.ThrowsAsync<ProfileSyncException>(() => connection.Exchange.RemovePhotoAsync(user, CancellationToken.None));
        foreach (var ex in new[] { set, remove })
        {
            Assert.Equal(ErrorIds.UserNotFound, ex.ErrorId);
            Assert.Equal(FailureKind.NotFound, ex.Kind);
            Assert.Equal(404, ex.StatusCode);
            Assert.Equal("Request_ResourceNotFound", ex.ServiceErrorCode);
            Assert.Contains(upn, ex.Message);
            Assert.False(ex.StopsRun);
            Assert.Contains("user principal name", ex.RecommendedAction);
        }
        Assert.Contains("setting the photo", set.Message);
        Assert.Contains("removing the photo", remove.Message);

        // Through the Set/Remove service, as Set-ProfilePhoto and Remove-ProfilePhoto drive it.
        var options = new SyncOptions();
        var run = connection.CreateRunServices();
        var setResult = await run.Changes.SetAsync(user, Photo(), "teal.png", sharePointOnly: false, options, CancellationToken.None);
        Assert.Equal((ChangeAction.Failed, SideOutcome.NotFound, ErrorIds.UserNotFound), (setResult.Action, setResult.Exchange, setResult.ErrorId));
        var removeResult = await run.Changes.RemoveAsync(user, exchangeOnly: false, sharePointOnly: false, options, CancellationToken.None);
        Assert.Equal((ChangeAction.Failed, SideOutcome.NotFound, ErrorIds.UserNotFound), (removeResult.Action, removeResult.Exchange, removeResult.ErrorId));
        Assert.Null(run.Photos.StopFailure);

        // SharePoint sees at most the harmless write that proves the profile-write right (a property set to the
        // value it had, for a user that has a profile); no upload, no other property.
        Assert.DoesNotContain(emulator.State.RequestLog, e => e.IsWrite && e.Service != "graph" && !e.Target.Contains("SetSingleValueProfileProperty", StringComparison.Ordinal));
        Assert.All(emulator.State.Users.Where(u => u.Profile is not null), u => Assert.All(u.PropertyWrites, name => Assert.Equal("SPS-PictureTimestamp", name)));
        Assert.Empty(emulator.State.FindByKey("adele@contoso.com")!.PhotoWrites);
    }

    [Fact]
    public async Task A_known_user_is_still_set_and_removed_and_a_second_removal_finds_no_photo()
    {
        var scenario = Scenario.Parse("""{ "users": [ { "upn": "adele@contoso.com", "sharePoint": "none" } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var user = UserRef.Parse("adele@contoso.com");
        await connection.Exchange.SetPhotoAsync(user, Photo().Jpeg, CancellationToken.None);
        Assert.True(await connection.Exchange.RemovePhotoAsync(user, CancellationToken.None));
        Assert.False(await connection.Exchange.RemovePhotoAsync(user, CancellationToken.None));
    }
}
