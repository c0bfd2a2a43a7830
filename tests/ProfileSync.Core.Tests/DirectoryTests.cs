using System.Net;
using ProfileSync.Core.Exchange;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

public class DirectoryTests
{
    [Fact]
    public async Task All_mailbox_users_are_listed_page_by_page_with_the_count_and_without_the_others()
    {
        var scenario = Scenario.Parse("""
        { "users": [ { "upn": "nomail@contoso.com", "mailbox": false, "sharePoint": "none" }, { "upn": "gone@contoso.com", "inGraph": false, "sharePoint": "none" } ],
          "population": { "count": 2100, "upnFormat": "u{0:0000}@contoso.com", "mix": [ "none" ] } }
        """);
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var directory = new MailboxUserDirectory(connection.Pipeline, connection.Endpoints);
        var seen = new List<string>();
        await foreach (var user in directory.ListAsync(CancellationToken.None))
        {
            seen.Add(user.UserPrincipalName);
            if (seen.Count == 1) Assert.Equal(2100, directory.TotalCount);
        }
        Assert.Equal(2100, seen.Count);
        Assert.Equal(2100, seen.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.DoesNotContain("nomail@contoso.com", seen);
        Assert.DoesNotContain("gone@contoso.com", seen);
        var pages = emulator.State.RequestLog.Where(e => e.Service == "graph").ToList();
        Assert.Equal(3, pages.Count);
        Assert.Contains("$filter=" + MailboxUserDirectory.MembersFilter, Uri.UnescapeDataString(pages[0].Target));
    }

    [Fact]
    public async Task The_emulator_refuses_the_mail_filter_without_ConsistencyLevel_eventual_like_Graph()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "users": [] }"""));
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.GraphUrl, "v1.0/users?$filter=mail%20ne%20null&$top=999"));
        request.Headers.Authorization = new("Bearer", emulator.GraphToken);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Request_UnsupportedQuery", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task All_lists_only_enabled_members_with_a_mailbox_and_IncludeDisabled_adds_disabled_accounts_but_no_guests()
    {
        var scenario = Scenario.Parse("""
        { "users": [
            { "upn": "member@contoso.com", "sharePoint": "none" },
            { "upn": "shared@contoso.com", "accountEnabled": false, "sharePoint": "none" },
            { "upn": "room@contoso.com", "accountEnabled": false, "sharePoint": "no-profile" },
            { "upn": "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", "userType": "Guest", "sharePoint": "none" },
            { "upn": "nomail@contoso.com", "mailbox": false, "sharePoint": "none" } ] }
        """);
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        async Task<List<string>> List(bool includeDisabled)
        {
            var listed = new List<string>();
            await foreach (var user in new MailboxUserDirectory(connection.Pipeline, connection.Endpoints, includeDisabled).ListAsync(CancellationToken.None))
                listed.Add(user.UserPrincipalName);
            return listed.Order(StringComparer.Ordinal).ToList();
        }
        Assert.Equal(new[] { "member@contoso.com" }, await List(includeDisabled: false));
        Assert.Equal(new[] { "member@contoso.com", "room@contoso.com", "shared@contoso.com" }, await List(includeDisabled: true));
        var sent = emulator.State.RequestLog.Where(e => e.Service == "graph").Select(e => Uri.UnescapeDataString(e.Target)).ToList();
        Assert.Contains(sent, t => t.Contains("$filter=accountEnabled eq true and userType eq 'Member' and mail ne null", StringComparison.Ordinal) && t.Contains("$count=true", StringComparison.Ordinal));
        Assert.Contains(sent, t => t.Contains("$filter=userType eq 'Member' and mail ne null", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_emulator_takes_eq_alone_by_default_but_refuses_ne_without_the_advanced_query_parameters_like_Graph()
    {
        var scenario = Scenario.Parse("""{ "users": [ { "upn": "on@contoso.com" }, { "upn": "off@contoso.com", "accountEnabled": false } ] }""");
        await using var emulator = await Emulator.StartAsync(scenario);
        using var http = new HttpClient();
        async Task<(HttpStatusCode Status, string Body)> Get(string filter, bool advanced)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.GraphUrl, "v1.0/users?$filter=" + Uri.EscapeDataString(filter) + (advanced ? "&$count=true" : "")));
            request.Headers.Authorization = new("Bearer", emulator.GraphToken);
            if (advanced) request.Headers.Add("ConsistencyLevel", "eventual");
            var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var eqAlone = await Get("accountEnabled eq true", advanced: false);
        Assert.Equal(HttpStatusCode.OK, eqAlone.Status);
        Assert.Contains("on@contoso.com", eqAlone.Body);
        Assert.DoesNotContain("off@contoso.com", eqAlone.Body);
        var neWithout = await Get(MailboxUserDirectory.MembersFilter, advanced: false);
        Assert.Equal(HttpStatusCode.BadRequest, neWithout.Status);
        Assert.Contains("Request_UnsupportedQuery", neWithout.Body);
        Assert.Contains("is not supported because the required parameters might be missing", neWithout.Body);
        Assert.Equal(HttpStatusCode.OK, (await Get(MailboxUserDirectory.MembersFilter, advanced: true)).Status);
    }
}
