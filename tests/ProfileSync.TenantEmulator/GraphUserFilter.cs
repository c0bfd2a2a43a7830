namespace ProfileSync.TenantEmulator;

/// <summary>
/// Graph's $filter on /users, for the clauses ProfileSync's -All sends, as Graph answers them
/// (https://learn.microsoft.com/graph/aad-advanced-queries): clauses joined by "and", each
/// "property op literal" on accountEnabled, userType or mail; eq works by default, ne only in an
/// advanced query (ConsistencyLevel: eventual and $count=true), else 400 Request_UnsupportedQuery.
/// </summary>
public sealed class GraphUserFilter
{
    private readonly List<Func<EmulatedUser, bool>> _clauses = new();

    private GraphUserFilter() { }

    /// <summary>The filter, or the (code, message) of Graph's 400 answer.</summary>
    public static (GraphUserFilter? Filter, string? Error) Parse(string text, bool advanced)
    {
        var filter = new GraphUserFilter();
        foreach (var clause in System.Text.RegularExpressions.Regex.Split(text.Trim(), @"\s+and\s+", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
        {
            var parts = clause.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            var property = parts.Length > 0 ? parts[0] : "";
            if (parts.Length != 3 || parts[1].ToLowerInvariant() is not ("eq" or "ne"))
                return (null, $"Unsupported or invalid query filter clause specified for property '{property}' of resource 'User'.");
            var negate = parts[1].Equals("ne", StringComparison.OrdinalIgnoreCase);
            if (negate && !advanced)
                return (null, "Operator 'ne' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information");
            var literal = parts[2].Trim();
            Func<EmulatedUser, bool>? test = property.ToLowerInvariant() switch
            {
                "accountenabled" when literal is "true" or "false" => u => u.AccountEnabled == (literal == "true"),
                "usertype" when Quoted(literal) is string type => u => string.Equals(u.UserType, type, StringComparison.OrdinalIgnoreCase),
                "mail" when literal == "null" && negate => u => !u.Mailbox, // the docs list no null comparison on mail but "ne null"
                "mail" when Quoted(literal) is string mail => u => u.Mailbox && string.Equals(u.Upn, mail, StringComparison.OrdinalIgnoreCase),
                _ => null,
            };
            if (test is null) return (null, $"Unsupported or invalid query filter clause specified for property '{property}' of resource 'User'.");
            filter._clauses.Add(negate ? u => !test(u) : test);
        }
        return (filter, null);
    }

    public bool Matches(EmulatedUser user) => _clauses.All(c => c(user));

    private static string? Quoted(string literal) =>
        literal.Length >= 2 && literal[0] == '\'' && literal[^1] == '\'' ? literal[1..^1].Replace("''", "'") : null;
}
