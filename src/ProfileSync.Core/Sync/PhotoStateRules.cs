namespace ProfileSync.Core.Sync;

/// <summary>What ProfileSync does with a user in one <see cref="PhotoState"/>: one row of <see cref="PhotoStateRules"/>.</summary>
/// <param name="NeedsSync">Sync-ProfilePhoto writes the user (Force aside).</param>
/// <param name="IsError">The cmdlets write an error record for the user.</param>
/// <param name="Journaled">The check is final: -JournalPath records the user as finished, and a resumed run skips them.</param>
/// <param name="AttentionOrder">Rank in the report, 0 first: what needs attention comes first. Distinct per state.</param>
/// <param name="ReportStyle">The CSS colour the HTML report gives the state (class st-{State}).</param>
/// <param name="FetchExchangePhoto">The report fetches the user's Exchange photo.</param>
/// <param name="FetchSharePointPhoto">The report fetches the SharePoint thumbnail PictureURL names (when it has one).</param>
public sealed record PhotoStateRule(
    PhotoState State,
    bool NeedsSync,
    bool IsError,
    bool Journaled,
    int AttentionOrder,
    string ReportStyle,
    bool FetchExchangePhoto,
    bool FetchSharePointPhoto);

/// <summary>
/// Every rule that depends on a <see cref="PhotoState"/>, in one place, so a new state is one new row
/// here rather than a hunt through the cmdlets and the report.
/// </summary>
public static class PhotoStateRules
{
    /// <summary>One rule per state, in enum order.</summary>
    public static IReadOnlyList<PhotoStateRule> All { get; } = Enum.GetValues<PhotoState>().Select(Row).ToArray();

    private static readonly Dictionary<PhotoState, PhotoStateRule> ByState = All.ToDictionary(r => r.State);

    /// <summary>The rule for a state.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a named PhotoState.</exception>
    public static PhotoStateRule For(PhotoState state) =>
        ByState.TryGetValue(state, out var rule) ? rule : throw new ArgumentOutOfRangeException(nameof(state), state, "Not a named PhotoState.");

    // The table. No discard arm, on purpose: a state missing here is CS8509, an error under
    // TreatWarningsAsErrors. CS8524 (unnamed values such as (PhotoState)42) is silenced: those never get a row.
#pragma warning disable CS8524
    private static PhotoStateRule Row(PhotoState state) => state switch
    {
        PhotoState.Error => new(state, NeedsSync: false, IsError: true, Journaled: false, AttentionOrder: 0,
            ReportStyle: "#a4262c", FetchExchangePhoto: true, FetchSharePointPhoto: true),
        PhotoState.Different => new(state, NeedsSync: true, IsError: false, Journaled: true, AttentionOrder: 1,
            ReportStyle: "#c50f1f", FetchExchangePhoto: true, FetchSharePointPhoto: true),
        PhotoState.MissingInSharePoint => new(state, NeedsSync: true, IsError: false, Journaled: true, AttentionOrder: 2,
            ReportStyle: "#bc4b09", FetchExchangePhoto: true, FetchSharePointPhoto: true),
        // No such user: nothing to fetch on either side.
        PhotoState.NotFound => new(state, NeedsSync: false, IsError: true, Journaled: true, AttentionOrder: 3,
            ReportStyle: "#666", FetchExchangePhoto: false, FetchSharePointPhoto: false),
        // Exchange has no photo: only SharePoint's can be shown.
        PhotoState.NoSourcePhoto => new(state, NeedsSync: false, IsError: false, Journaled: true, AttentionOrder: 4,
            ReportStyle: "#666", FetchExchangePhoto: false, FetchSharePointPhoto: true),
        PhotoState.InSync => new(state, NeedsSync: false, IsError: false, Journaled: true, AttentionOrder: 5,
            ReportStyle: "#107c10", FetchExchangePhoto: true, FetchSharePointPhoto: true),
    };
#pragma warning restore CS8524
}
