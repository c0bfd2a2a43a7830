using ProfileSync.Core.Reporting;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Tests;

/// <summary>Issue 5, item 6: user-controlled text in a CSV never runs as a formula and never breaks the row.</summary>
public class CsvReportTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("+1+1", "'+1+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\t=1", "'\t=1")]
    [InlineData("o'neil@contoso.com", "o'neil@contoso.com")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void A_cell_is_defused_and_quoted(string? value, string expected) => Assert.Equal(expected, CsvReport.Cell(value));

    [Fact]
    public void A_report_keeps_one_line_per_user_whatever_the_names_hold()
    {
        var rows = new[]
        {
            new ReportRow { UserPrincipalName = "=cmd|' /C calc'!A0@contoso.com", State = PhotoState.Different, Reason = "a \"quoted\", multi\r\nline reason", CheckedAt = DateTimeOffset.UnixEpoch },
            new ReportRow { UserPrincipalName = "adele@contoso.com", State = PhotoState.InSync, Action = nameof(SyncAction.Skipped), CheckedAt = DateTimeOffset.UnixEpoch },
        };
        var writer = new StringWriter();
        CsvReport.Write(writer, rows);
        var text = writer.ToString();
        Assert.StartsWith("UserPrincipalName,DisplayName,State,Action,Reason,ErrorId,", text);
        Assert.Contains("'=cmd|' /C calc'!A0@contoso.com,,Different,,\"a \"\"quoted\"\", multi\r\nline reason\",", text);
        Assert.Contains("\r\nadele@contoso.com,,InSync,Skipped,,,None,,,,1970-01-01T00:00:00Z,,,\r\n", text);
        // No line of the file starts with a formula character.
        Assert.DoesNotContain(text.Split("\r\n"), line => line.Length > 0 && line[0] is '=' or '+' or '-' or '@');
    }

    [Fact]
    public void A_Set_or_Remove_row_has_no_state_but_its_operation_action_reason_and_sides()
    {
        var change = new PhotoChangeResult
        {
            UserPrincipalName = "adele@contoso.com", Operation = "Remove", Action = ChangeAction.Failed, Exchange = SideOutcome.NotFound,
            SharePoint = SideOutcome.NotRequested, Reason = "Exchange: Graph knows no user. SharePoint was not touched.",
            Failure = Failure.Of(ErrorIds.UserNotFound, "Graph knows no user."),
        };
        var row = ReportRow.FromResult(change)!;
        Assert.Null(row.State);
        Assert.Equal(0, row.AttentionOrder);
        var writer = new StringWriter();
        CsvReport.Write(writer, new[] { row with { CheckedAt = DateTimeOffset.UnixEpoch } });
        Assert.EndsWith("\r\nadele@contoso.com,,,Failed,Exchange: Graph knows no user. SharePoint was not touched.,UserNotFound,None,,,,1970-01-01T00:00:00Z,Remove,NotFound,NotRequested\r\n", writer.ToString());
        Assert.Null(ReportRow.FromResult("=1+1"));
    }

    [Theory]
    [InlineData("report.html", ReportFormat.Html)]
    [InlineData("REPORT.HTM", ReportFormat.Html)]
    [InlineData("state.csv", ReportFormat.Csv)]
    [InlineData("notes.txt", null)]
    [InlineData("report", null)]
    public void The_extension_names_the_format(string path, ReportFormat? expected) => Assert.Equal(expected, ReportFormats.FromPath(path));

    [Fact]
    public void The_html_row_names_an_ErrorId_once_and_a_change_by_its_operation_and_sides()
    {
        var failed = new ReportRow { UserPrincipalName = "a@contoso.com", State = PhotoState.Error, Reason = "Photo unreadable (PhotoUnreadable).", ErrorId = "PhotoUnreadable" };
        Assert.DoesNotContain("\"e\":", HtmlReport.RowJson(failed, new ReportPhotoPair(null, null, null)));
        var set = ReportRow.From(new PhotoChangeResult { UserPrincipalName = "b@contoso.com", Operation = "Set", Action = ChangeAction.Updated, Exchange = SideOutcome.Updated, SharePoint = SideOutcome.Updated });
        var json = HtmlReport.RowJson(set, new ReportPhotoPair(null, null, null));
        Assert.Contains("\"a\":\"Set Updated\"", json);
        Assert.Contains("\"g\":\"Exchange Updated \\u00B7 SharePoint Updated\"", json);
        Assert.DoesNotContain("\"s\":", json);
    }
}
