using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ProfileSync.TenantEmulator;

/// <summary>
/// SharePoint People search (facts doc 5a): GET {site}/_api/search/query?querytext='*'
/// &amp;sourceid='b09a7990-05ea-4af9-81ef-edfab16c4e31'&amp;selectproperties='AccountName,PictureURL,...'
/// &amp;rowlimit=N&amp;startrow=M on the My Site host or the admin site. Answers from the index snapshot
/// (<see cref="TenantState.SearchIndex"/>), never from the live profiles.
///
/// Answer shape (SharePoint dev docs "SharePoint Search REST API overview", its sample answer for a
/// mobile app, and how pnpcore's ProcessSearchResults reads it): a SearchResult with ElapsedTime,
/// PrimaryQueryResult.RelevantResults { RowCount, Table.Rows[].Cells[] of {Key, Value, ValueType},
/// TotalRows, TotalRowsIncludingDuplicates }, Properties, SecondaryQueryResults, SpellingSuggestion,
/// TriggeredRules. Cell values are strings (pnpcore reads them with GetString and converts by
/// ValueType); a property with no value is ValueType "Null", Value null. With odata=verbose the
/// whole is d.query, every list is {"results": [...]} and every object has its __metadata type
/// (Microsoft.Office.Server.Search.REST.SearchResult/QueryResult/RelevantResults, SP.SimpleDataTable,
/// SP.SimpleDataRow, SP.KeyValue); with odata=nometadata it is flat.
/// </summary>
public sealed partial class Emulator
{
    public const string PeopleSourceId = "b09a7990-05ea-4af9-81ef-edfab16c4e31";

    /// <summary>Rows a page at most, whatever rowlimit asks (SharePoint search limits: 500 rows in a result set).</summary>
    public const int SearchMaxRowsPerPage = 500;

    /// <summary>
    /// The documented StartRow ceiling (sp-dev-docs: "we limit the maximum supported value of StartRow to
    /// be 50,000"; past it, page by IndexDocId sorted on [docid], "Pagination for large result sets").
    /// The service's answer past it is not documented, so the emulator does not invent one: it pages on
    /// up to TotalRows. A tenant with more than 50,000 indexed people needs the docid paging.
    /// </summary>
    public const int SearchStartRowLimit = 50_000;

    private static readonly string[] DefaultSearchProperties =
        { "AccountName", "PreferredName", "WorkEmail", "PictureURL", "UserProfile_GUID" };

    /// <summary>What POST /search?mode= does: "allowed", "refused" or "empty".</summary>
    public void SetPeopleSearch(string mode)
    {
        if (!TrySetPeopleSearch(mode)) throw new ArgumentException($"Unknown People search mode '{mode}'.", nameof(mode));
    }

    /// <summary>What POST /search/refresh does: the index catches up with the profiles.</summary>
    public void RefreshSearchIndex() => State.RefreshSearchIndex();

    private bool TrySetPeopleSearch(string mode)
    {
        if (mode is not ("allowed" or "refused" or "empty")) return false;
        Scenario.PeopleSearch = mode;
        return true;
    }

    private async Task PeopleSearchAsync(HttpContext ctx)
    {
        var verbose = Verbose(ctx);
        if (Scenario.PeopleSearch == "refused")
        {
            await SharePointErrorAsync(ctx, 403, "-2147024891, System.UnauthorizedAccessException",
                "Access denied. You do not have permission to perform this action or access this resource.");
            return;
        }
        var query = ctx.Request.Query;
        var text = ODataUrl.StringLiteral(query["querytext"].ToString());
        if (string.IsNullOrWhiteSpace(text))
        {
            // Only for the emulator's own sanity: ProfileSync always sends querytext. The service's answer to none is not modelled.
            await SharePointErrorAsync(ctx, 400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "The query text is missing.");
            return;
        }
        var source = ODataUrl.StringLiteral(query["sourceid"].ToString());
        var rowLimit = int.TryParse(query["rowlimit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : 10;
        rowLimit = Math.Clamp(rowLimit, 0, SearchMaxRowsPerPage);
        var startRow = int.TryParse(query["startrow"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? Math.Max(0, s) : 0;
        var selected = ODataUrl.StringLiteral(query["selectproperties"].ToString()) is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : DefaultSearchProperties;

        // The emulator indexes people only: any other result source finds nothing. "empty" is the
        // silent failure of app-only people search reported in some tenants: 200, no rows.
        IReadOnlyList<IndexedPerson> hits = Scenario.PeopleSearch == "empty" || !Guid.TryParse(source, out var id) || id != Guid.Parse(PeopleSourceId)
            ? Array.Empty<IndexedPerson>()
            : State.SearchIndex.Where(p => Matches(p, text)).ToList();
        var page = hits.Skip(startRow).Take(rowLimit).ToList();

        var rows = new JsonArray();
        for (var i = 0; i < page.Count; i++)
        {
            var person = page[i];
            var cells = new JsonArray();
            cells.Add(Cell("Rank", (hits.Count - startRow - i).ToString(CultureInfo.InvariantCulture) + ".0", "Edm.Double", verbose));
            cells.Add(Cell("DocId", person.DocId.ToString(CultureInfo.InvariantCulture), "Edm.Int64", verbose));
            foreach (var name in selected)
            {
                if (name.Equals("Rank", StringComparison.OrdinalIgnoreCase) || name.Equals("DocId", StringComparison.OrdinalIgnoreCase)) continue;
                var value = person.Properties.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
                cells.Add(Cell(name, value, value is null ? "Null" : "Edm.String", verbose));
            }
            if (!selected.Contains("Path", StringComparer.OrdinalIgnoreCase)) cells.Add(Cell("Path", person.Properties["Path"], "Edm.String", verbose));
            var row = new JsonObject();
            if (verbose) row["__metadata"] = Type("SP.SimpleDataRow");
            row["Cells"] = List(cells, verbose);
            rows.Add(row);
        }

        var table = new JsonObject();
        if (verbose) table["__metadata"] = Type("SP.SimpleDataTable");
        table["Rows"] = List(rows, verbose);

        var relevant = new JsonObject();
        if (verbose) relevant["__metadata"] = Type("Microsoft.Office.Server.Search.REST.RelevantResults");
        relevant["GroupTemplateId"] = null;
        relevant["ItemTemplateId"] = null;
        relevant["Properties"] = List(new JsonArray(Cell("RowLimit", rowLimit.ToString(CultureInfo.InvariantCulture), "Edm.Int32", verbose),
            Cell("SourceId", source, source is null ? "Null" : "Edm.Guid", verbose)), verbose);
        relevant["ResultTitle"] = null;
        relevant["ResultTitleUrl"] = null;
        relevant["RowCount"] = page.Count;
        relevant["Table"] = table;
        relevant["TotalRows"] = hits.Count;
        relevant["TotalRowsIncludingDuplicates"] = hits.Count;

        var primary = new JsonObject();
        if (verbose) primary["__metadata"] = Type("Microsoft.Office.Server.Search.REST.QueryResult");
        primary["CustomResults"] = List(new JsonArray(), verbose);
        primary["QueryId"] = Guid.NewGuid().ToString();
        primary["QueryRuleId"] = Guid.Empty.ToString();
        primary["RefinementResults"] = null;
        primary["RelevantResults"] = relevant;
        primary["SpecialTermResults"] = null;

        var result = new JsonObject();
        if (verbose) result["__metadata"] = Type("Microsoft.Office.Server.Search.REST.SearchResult");
        result["ElapsedTime"] = 42;
        result["PrimaryQueryResult"] = primary;
        result["Properties"] = List(new JsonArray(), verbose);
        result["SecondaryQueryResults"] = List(new JsonArray(), verbose);
        result["SpellingSuggestion"] = "";
        result["TriggeredRules"] = List(new JsonArray(), verbose);

        if (verbose)
            await WriteJsonAsync(ctx, 200, new JsonObject { ["d"] = new JsonObject { ["query"] = result } }.ToJsonString(), "application/json;odata=verbose;charset=utf-8");
        else
            await WriteJsonAsync(ctx, 200, result.ToJsonString(), "application/json;odata=nometadata;charset=utf-8");
    }

    /// <summary>'*' finds everyone; other text: a person whose name, account or mail contains it (enough for an emulator).</summary>
    private static bool Matches(IndexedPerson person, string text) =>
        text.Trim() == "*" || new[] { "AccountName", "PreferredName", "WorkEmail" }.Any(k =>
            person.Properties.TryGetValue(k, out var v) && v.Contains(text.Trim().TrimEnd('*'), StringComparison.OrdinalIgnoreCase));

    private static JsonObject Cell(string key, string? value, string valueType, bool verbose)
    {
        var cell = new JsonObject();
        if (verbose) cell["__metadata"] = Type("SP.KeyValue");
        cell["Key"] = key;
        cell["Value"] = value;
        cell["ValueType"] = valueType;
        return cell;
    }

    private static JsonNode List(JsonArray items, bool verbose) => verbose ? new JsonObject { ["results"] = items } : items;

    private static JsonObject Type(string type) => new() { ["type"] = type };
}
