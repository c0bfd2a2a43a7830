using System.Net.Http.Headers;
using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

/// <summary>SharePoint People search as a bulk profile read (facts doc 5a): wire format, paging, index lag, refusal, silent emptiness.</summary>
public class PeopleSearchTests
{
    // Shaped as the SharePoint dev docs' sample search answer and pnpcore's reader have it: nometadata is flat.
    private const string NoMetadata = """
    {"ElapsedTime":31,"PrimaryQueryResult":{"CustomResults":[],"QueryId":"7fea4ced-5789-4067-beab-8f807410b29e","QueryRuleId":"00000000-0000-0000-0000-000000000000",
     "RefinementResults":null,"RelevantResults":{"GroupTemplateId":null,"ItemTemplateId":null,"Properties":[{"Key":"RowLimit","Value":"500","ValueType":"Edm.Int32"}],
     "ResultTitle":null,"ResultTitleUrl":null,"RowCount":3,"Table":{"Rows":[
      {"Cells":[{"Key":"Rank","Value":"16.2","ValueType":"Edm.Double"},{"Key":"DocId","Value":"17","ValueType":"Edm.Int64"},
                {"Key":"AccountName","Value":"i:0#.f|membership|adele.vance@contoso.com","ValueType":"Edm.String"},
                {"Key":"PreferredName","Value":"Adele Vance","ValueType":"Edm.String"},
                {"Key":"PictureURL","Value":"https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/a1_MThumb.jpg?t=63850000000","ValueType":"Edm.String"},
                {"Key":"SPS-PicturePlaceholderState","Value":"0","ValueType":"Edm.String"},
                {"Key":"SPS-PictureTimestamp","Value":"63850000000","ValueType":"Edm.String"},
                {"Key":"UserProfile_GUID","Value":"1b3e2f5a-0000-4000-8000-000000000001","ValueType":"Edm.String"},
                {"Key":"msOnline-ObjectId","Value":"a1a1a1a1-0000-4000-8000-000000000001","ValueType":"Edm.String"}]},
      {"Cells":[{"Key":"AccountName","Value":"i:0#.f|membership|jane_fabrikam.com#EXT#@contoso.onmicrosoft.com","ValueType":"Edm.String"},
                {"Key":"PictureURL","Value":null,"ValueType":"Null"},
                {"Key":"SPS-PicturePlaceholderState","Value":"1","ValueType":"Edm.String"}]},
      {"Cells":[{"Key":"AccountName","Value":null,"ValueType":"Null"},{"Key":"PreferredName","Value":"Not a person","ValueType":"Edm.String"}]}
     ]},"TotalRows":1203,"TotalRowsIncludingDuplicates":1203},"SpecialTermResults":null},
     "Properties":[],"SecondaryQueryResults":[],"SpellingSuggestion":"","TriggeredRules":[]}
    """;

    // odata=verbose: d.query, every list in "results", __metadata types; numbers may come as strings.
    private const string Verbose = """
    {"d":{"query":{"__metadata":{"type":"Microsoft.Office.Server.Search.REST.SearchResult"},"ElapsedTime":31,
     "PrimaryQueryResult":{"__metadata":{"type":"Microsoft.Office.Server.Search.REST.QueryResult"},"CustomResults":{"results":[]},
      "RelevantResults":{"__metadata":{"type":"Microsoft.Office.Server.Search.REST.RelevantResults"},"Properties":{"results":[]},"RowCount":"1",
       "Table":{"__metadata":{"type":"SP.SimpleDataTable"},"Rows":{"results":[
        {"__metadata":{"type":"SP.SimpleDataRow"},"Cells":{"results":[
          {"__metadata":{"type":"SP.KeyValue"},"Key":"AccountName","Value":"i:0#.f|membership|o'neil@contoso.com","ValueType":"Edm.String"},
          {"__metadata":{"type":"SP.KeyValue"},"Key":"PictureURL","Value":"https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/o_MThumb.jpg","ValueType":"Edm.String"},
          {"__metadata":{"type":"SP.KeyValue"},"Key":"SPS-PictureTimestamp","Value":"","ValueType":"Edm.String"}]}}]}},
       "TotalRows":2,"TotalRowsIncludingDuplicates":2}},
     "Properties":{"results":[]},"SecondaryQueryResults":{"results":[]},"SpellingSuggestion":"","TriggeredRules":{"results":[]}}}}
    """;

    [Fact]
    public void Reads_the_nometadata_answer()
    {
        var page = SharePointWireFormat.ReadPeopleSearch(NoMetadata);
        Assert.Equal(1203, page.TotalRows);
        Assert.Equal(3, page.RowCount);
        Assert.Equal(2, page.Profiles.Count); // the row with no account name is no person ProfileSync can name
        var adele = page.Profiles[0];
        Assert.Equal("adele.vance@contoso.com", adele.UserPrincipalName);
        Assert.Equal("i:0#.f|membership|adele.vance@contoso.com", adele.AccountName);
        Assert.Equal("https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/a1_MThumb.jpg", adele.PictureUrl);
        Assert.Equal("0", adele.PlaceholderState);
        Assert.Equal("63850000000", adele.PictureTimestamp);
        Assert.Equal("a1a1a1a1-0000-4000-8000-000000000001", adele.ObjectId);
        Assert.Equal("1b3e2f5a-0000-4000-8000-000000000001", adele.ProfileGuid);
        var guest = page.Profiles[1];
        Assert.Equal("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com", guest.UserPrincipalName);
        Assert.Null(guest.PictureUrl);
        Assert.True(guest.ShowsPlaceholder);
        Assert.Null(guest.ObjectId);
    }

    [Fact]
    public void Reads_the_verbose_answer()
    {
        var page = SharePointWireFormat.ReadPeopleSearch(Verbose);
        Assert.Equal(2, page.TotalRows);
        Assert.Equal(1, page.RowCount);
        var p = Assert.Single(page.Profiles);
        Assert.Equal("o'neil@contoso.com", p.UserPrincipalName);
        Assert.Equal("https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/o_MThumb.jpg", p.PictureUrl);
        Assert.Null(p.PictureTimestamp);
        Assert.Null(p.PlaceholderState);
    }

    [Theory]
    [InlineData("""{"odata.error":{"code":"-1, x","message":{"lang":"en-US","value":"no"}}}""")]
    [InlineData("""{"d":{"query":{"ElapsedTime":1}}}""")]
    [InlineData("[]")]
    public void An_answer_that_is_no_search_result_is_refused_as_such(string json) =>
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => SharePointWireFormat.ReadPeopleSearch(json));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_emulator_answers_both_shapes_and_they_read_the_same(bool verbose)
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "population": { "count": 7, "mix": ["synced-objectid", "none"], "photoSize": 96 } }"""));
        using var http = new HttpClient();
        var url = new Uri(emulator.MySiteUrl, "_api/search/query?querytext='*'&sourceid='b09a7990-05ea-4af9-81ef-edfab16c4e31'&selectproperties='AccountName,PictureURL,SPS-PicturePlaceholderState,msOnline-ObjectId'&rowlimit=5&startrow=5");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", emulator.SharePointToken);
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(verbose ? "application/json;odata=verbose" : "application/json;odata=nometadata"));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.Equal(verbose, body.StartsWith("""{"d":{"query":""", StringComparison.Ordinal));
        Assert.Equal(verbose, body.Contains("\"results\"", StringComparison.Ordinal));
        var page = SharePointWireFormat.ReadPeopleSearch(body);
        Assert.Equal(7, page.TotalRows);
        Assert.Equal(2, page.RowCount);
        Assert.Equal(new[] { "user00006@contoso.com", "user00007@contoso.com" }, page.Profiles.Select(p => p.UserPrincipalName));
        Assert.All(page.Profiles, p => Assert.Equal(emulator.State.FindByKey(p.UserPrincipalName)!.Id, p.ObjectId));
        Assert.StartsWith(emulator.MySiteUrl.GetLeftPart(UriPartial.Authority), page.Profiles.First(p => p.PictureUrl is not null).PictureUrl);
    }

    [Fact]
    public async Task Twelve_hundred_users_list_in_three_pages_of_at_most_500_and_hidden_users_are_missing()
    {
        var scenario = Scenario.Parse("""{ "population": { "count": 1200, "mix": ["synced-objectid", "none", "stale"], "photoSize": 96, "hiddenFromAddressListShare": 0.05 } }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var search = new PeopleSearch(connection.Pipeline, connection.Endpoints);

        var listed = new List<IndexedProfile>();
        await foreach (var p in search.ListAsync(CancellationToken.None)) listed.Add(p);

        var hidden = emulator.State.Users.Where(u => u.HiddenFromAddressList).Select(u => u.Upn).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var visible = emulator.State.Users.Where(u => !u.HiddenFromAddressList).Select(u => u.Upn).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Equal(60, hidden.Count);
        Assert.Equal(1140, listed.Count);
        Assert.Equal(visible.Count, listed.Select(p => p.UserPrincipalName).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.True(visible.SetEquals(listed.Select(p => p.UserPrincipalName)));
        Assert.DoesNotContain(listed, p => hidden.Contains(p.UserPrincipalName));

        var searches = emulator.State.RequestLog.Where(e => e.Target.Contains("/_api/search/query", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, searches.Count);
        Assert.All(searches, e => Assert.Equal(200, e.Status));
        Assert.All(searches, e => Assert.Equal("mysite", e.Service));
        Assert.Contains(searches, e => e.Target.Contains("startrow=1000", StringComparison.Ordinal));

        // The index is what the profiles held when it was taken: the picture properties come through.
        var synced = listed.First(p => p.PictureUrl is not null);
        var profile = emulator.State.FindByKey(synced.UserPrincipalName)!.Profile!;
        Assert.Equal(profile["PictureURL"], synced.PictureUrl);
        Assert.Equal(profile["SPS-PicturePlaceholderState"], synced.PlaceholderState);
        Assert.Null(synced.PictureTimestamp); // not asked for: a write reads the live profile's
        Assert.Equal(emulator.State.FindByKey(synced.UserPrincipalName)!.Id, synced.ObjectId);
    }

    [Fact]
    public async Task The_emulator_gives_at_most_500_rows_whatever_rowlimit_asks()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "population": { "count": 600, "mix": ["none"] } }"""));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var page = await connection.SharePoint.SearchPeopleAsync(0, 5000, CancellationToken.None);
        Assert.Equal(600, page.TotalRows);
        Assert.Equal(500, page.RowCount);
        var past = await connection.SharePoint.SearchPeopleAsync(600, 500, CancellationToken.None);
        Assert.Equal(600, past.TotalRows);
        Assert.Empty(past.Profiles);
    }

    [Fact]
    public async Task The_index_lags_a_profile_write_is_seen_only_after_a_refresh()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "users": [ { "upn": "lag@contoso.com", "photo": { "seed": 1, "width": 96, "height": 96 }, "sharePoint": "none" }, { "upn": "other@contoso.com", "sharePoint": "none" } ] }"""));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var search = new PeopleSearch(connection.Pipeline, connection.Endpoints);
        var user = UserRef.Parse("lag@contoso.com");
        var written = emulator.MySiteUrl.GetLeftPart(UriPartial.Authority) + "/User%20Photos/Profile%20Pictures/lag_MThumb.jpg";

        Assert.Null((await Find(search, user))!.PictureUrl);
        await connection.SharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PictureUrlProperty, written, CancellationToken.None);
        await connection.SharePoint.SetProfilePropertyAsync(user, SharePointWireFormat.PlaceholderStateProperty, "0", CancellationToken.None);

        // The profile has it at once; the index does not.
        Assert.Equal(written, (await connection.SharePoint.GetProfileAsync(user, CancellationToken.None))!.PictureUrl);
        var stale = await Find(search, user);
        Assert.Null(stale!.PictureUrl);
        Assert.Equal("1", stale.PlaceholderState);

        using (var control = new HttpClient { BaseAddress = emulator.ControlUrl })
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await control.PostAsync("search/refresh", null)).StatusCode);
        var fresh = await Find(search, user);
        Assert.Equal(written, fresh!.PictureUrl);
        Assert.Equal("0", fresh.PlaceholderState);
    }

    [Fact]
    public async Task Refused_search_is_AccessDenied_that_stops_nothing_and_profile_reads_go_on()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "peopleSearch": "refused", "users": [ { "upn": "a@contoso.com", "sharePoint": "none" } ] }"""));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var search = new PeopleSearch(connection.Pipeline, connection.Endpoints);

        var ex = await Assert.ThrowsAsync<ProfileSyncException>(async () => { await foreach (var _ in search.ListAsync(CancellationToken.None)) { } });
        Assert.Equal(ErrorIds.AccessDenied, ex.ErrorId);
        Assert.Equal(FailureKind.AccessDenied, ex.Kind);
        Assert.Equal(403, ex.StatusCode);
        Assert.Equal("SharePoint", ex.Service);
        Assert.Contains("UnauthorizedAccessException", ex.ServiceErrorCode);
        Assert.False(ex.StopsRun);
        Assert.Contains("one by one", ex.RecommendedAction);

        var probe = await search.ProbeAsync(CancellationToken.None);
        Assert.Equal(PeopleSearchOutcome.Refused, probe.Outcome);
        Assert.False(probe.CanList);
        Assert.Equal(ErrorIds.AccessDenied, probe.Failure!.ErrorId);
        Assert.False(probe.Failure.StopsRun);

        // Nothing else is refused: the per-user read still answers, and search comes back when allowed.
        Assert.NotNull(await connection.SharePoint.GetProfileAsync(UserRef.Parse("a@contoso.com"), CancellationToken.None));
        emulator.SetPeopleSearch("allowed");
        Assert.Equal(new PeopleSearchProbe(PeopleSearchOutcome.Answered, 1, null), await search.ProbeAsync(CancellationToken.None));
        Assert.Equal(403, emulator.State.RequestLog.First(e => e.Target.Contains("/_api/search/query", StringComparison.Ordinal)).Status);
    }

    [Fact]
    public async Task Silently_empty_search_is_reported_as_empty_by_the_probe()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "population": { "count": 3, "mix": ["none"] } }"""));
        using var connection = EmulatorServiceTests.Connect(emulator);
        var search = new PeopleSearch(connection.Pipeline, connection.Endpoints);
        var answered = await search.ProbeAsync(CancellationToken.None);
        Assert.Equal(PeopleSearchOutcome.Answered, answered.Outcome);
        Assert.Equal(3, answered.TotalRows);

        using (var control = new HttpClient { BaseAddress = emulator.ControlUrl })
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await control.PostAsync("search?mode=sometimes", null)).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await control.PostAsync("search?mode=empty", null)).StatusCode);
        }
        var probe = await search.ProbeAsync(CancellationToken.None);
        Assert.Equal(PeopleSearchOutcome.Empty, probe.Outcome);
        Assert.Equal(0, probe.TotalRows);
        Assert.Null(probe.Failure);
        var listed = new List<IndexedProfile>();
        await foreach (var p in search.ListAsync(CancellationToken.None)) listed.Add(p);
        Assert.Empty(listed);
        Assert.Contains("rowlimit=1&", emulator.State.RequestLog.First(e => e.Target.Contains("/_api/search/query", StringComparison.Ordinal)).Target + "&");
    }

    private static async Task<IndexedProfile?> Find(PeopleSearch search, UserRef user)
    {
        await foreach (var p in search.ListAsync(CancellationToken.None))
            if (p.UserPrincipalName.Equals(user.UserPrincipalName, StringComparison.OrdinalIgnoreCase)) return p;
        return null;
    }
}
