using System.Text.RegularExpressions;
using ProfileSync.Core.Reporting;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Tests;

/// <summary>One table of state rules: every PhotoState has a full row, and the table says what the code did before it.</summary>
public class PhotoStateRulesTests
{
    [Fact]
    public void Every_state_has_a_rule_for_every_column()
    {
        var states = Enum.GetValues<PhotoState>();
        Assert.Equal(states, PhotoStateRules.All.Select(r => r.State));
        foreach (var state in states)
        {
            var rule = PhotoStateRules.For(state);
            Assert.Equal(state, rule.State);
            Assert.Matches("^#[0-9a-f]{3}([0-9a-f]{3})?$", rule.ReportStyle);
            Assert.InRange(rule.AttentionOrder, 0, states.Length - 1);
        }
    }

    [Fact]
    public void Attention_orders_are_distinct()
    {
        var orders = PhotoStateRules.All.Select(r => r.AttentionOrder).ToList();
        Assert.Equal(orders.Count, orders.Distinct().Count());
    }

    [Fact]
    public void An_unnamed_value_has_no_rule() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PhotoStateRules.For((PhotoState)42));

    // What Results.cs, ReportPhotos.cs, HtmlReport.cs, Export-PhotoSyncReport and Get-PhotoSyncState (error record;
    // journal: final unless Error) decided before the table.
    [Theory]
    [InlineData(PhotoState.Error, false, true, false, 0, "#a4262c", true, true)]
    [InlineData(PhotoState.Different, true, false, true, 1, "#c50f1f", true, true)]
    [InlineData(PhotoState.MissingInSharePoint, true, false, true, 2, "#bc4b09", true, true)]
    [InlineData(PhotoState.NotFound, false, true, true, 3, "#666", false, false)]
    [InlineData(PhotoState.NoSourcePhoto, false, false, true, 4, "#666", false, true)]
    [InlineData(PhotoState.InSync, false, false, true, 5, "#107c10", true, true)]
    public void The_table_keeps_the_earlier_behaviour(PhotoState state, bool needsSync, bool isError, bool journaled, int order, string colour, bool exchange, bool sharePoint)
    {
        Assert.Equal(new PhotoStateRule(state, needsSync, isError, journaled, order, colour, exchange, sharePoint), PhotoStateRules.For(state));
        Assert.Equal(needsSync, new PhotoSyncState { State = state }.NeedsSync);
    }

    [Fact]
    public void The_report_css_has_one_colour_class_per_state()
    {
        var classes = Regex.Matches(HtmlReport.Style, @"\.st-(\w+)\{color:(#[0-9a-f]+)\}").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(PhotoStateRules.All.ToDictionary(r => r.State.ToString(), r => r.ReportStyle), classes);
        Assert.DoesNotContain("/*states*/", HtmlReport.Style);
    }
}
