namespace ProfileSync.TenantEmulator;

/// <summary>
/// SharePoint REST's OData URL conventions the routes need: functions called in the path with their
/// arguments, e.g. GetFolderByServerRelativePath(decodedurl='/User Photos/Profile Pictures')/Folders,
/// an argument either a string literal or a parameter alias (decodedurl=@a1 with ?@a1='...').
/// </summary>
public static class ODataUrl
{
    private const string PathAsSentKey = "odata-path-as-sent";

    /// <summary>
    /// Endpoint routing on the host, with every function call one path segment. A string literal may
    /// hold '/', which route templates read as a segment separator: routing sees each literal's '/' as
    /// %2F and its '%' as %25 (reversibly), so a template such as "GetFolderByServerRelativePath({folder})"
    /// matches the whole call; the routes' handlers see the path as sent.
    /// </summary>
    public static void UseRouting(WebApplication site)
    {
        site.Use((ctx, next) =>
        {
            ctx.Items[PathAsSentKey] = ctx.Request.Path;
            ctx.Request.Path = new PathString(EscapeLiterals(ctx.Request.Path.Value ?? ""));
            return next(ctx);
        });
        site.UseRouting();
        site.Use((ctx, next) =>
        {
            ctx.Request.Path = (PathString)ctx.Items[PathAsSentKey]!;
            return next(ctx);
        });
    }

    private static string EscapeLiterals(string path)
    {
        if (!path.Contains('\'')) return path;
        var escaped = new StringBuilder(path.Length + 16);
        var inLiteral = false;
        foreach (var c in path)
        {
            if (c == '\'') inLiteral = !inLiteral; // a doubled quote inside a literal leaves and re-enters it
            escaped.Append(inLiteral && c == '/' ? "%2F" : inLiteral && c == '%' ? "%25" : c);
        }
        return escaped.ToString();
    }

    /// <summary>
    /// An argument of the function call the route value <paramref name="call"/> holds (the text between
    /// its parentheses): by <paramref name="name"/> (name='x' or name=@a1), or the first, positional one
    /// when no name is given. Null when it is missing or not a string.
    /// </summary>
    public static string? Argument(HttpContext ctx, string call, string? name = null)
    {
        var value = (string)ctx.Request.RouteValues[call]!;
        if (name is not null)
        {
            var at = value.IndexOf(name + "=", StringComparison.OrdinalIgnoreCase);
            if (at < 0) return null;
            value = value[(at + name.Length + 1)..];
        }
        if (value.StartsWith('@'))
        {
            var end = value.IndexOf(',');
            var alias = end < 0 ? value : value[..end];
            return StringLiteral(ctx.Request.Query[alias].ToString());
        }
        if (value.StartsWith('\''))
        {
            var literal = new StringBuilder();
            for (var i = 1; i < value.Length; i++)
            {
                if (value[i] == '\'')
                {
                    if (i + 1 < value.Length && value[i + 1] == '\'') { literal.Append('\''); i++; continue; }
                    return literal.Replace("%2F", "/").Replace("%25", "%").ToString(); // as the path was sent
                }
                literal.Append(value[i]);
            }
        }
        return null;
    }

    /// <summary>The value of an OData string literal ('it''s' is it's); null when the text is not one.</summary>
    public static string? StringLiteral(string literal) =>
        literal.Length >= 2 && literal[0] == '\'' && literal[^1] == '\'' ? literal[1..^1].Replace("''", "'") : null;
}
