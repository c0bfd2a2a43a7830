using System.Text;

namespace ProfileSync.Core.Identity;

/// <summary>
/// One user as the admin named them: a user principal name, validated and normalised once.
/// Every escaping rule for putting a user into a Graph path, an OData literal or a SharePoint
/// claims name lives here or in <see cref="UrlText"/>, nowhere else.
/// </summary>
public sealed class UserRef : IEquatable<UserRef>
{
    private UserRef(string userPrincipalName, Guid? objectId = null, bool upnKnown = true)
    {
        UserPrincipalName = userPrincipalName;
        ObjectId = objectId;
        UpnKnown = upnKnown;
    }

    /// <summary>
    /// The UPN as given, trimmed and NFC-normalised (case kept; comparisons ignore it); for a user
    /// given by Entra object id whose UPN is not read yet (<see cref="UpnKnown"/> false), the id's text.
    /// </summary>
    public string UserPrincipalName { get; }

    /// <summary>The Entra object id, when the admin gave one (or Graph answered it).</summary>
    public Guid? ObjectId { get; }

    /// <summary>
    /// False for a user given by object id whose UPN Graph has not been asked for yet: Graph takes the
    /// id, but SharePoint profiles are found by UPN only, so a run reads it once before the user's work.
    /// </summary>
    public bool UpnKnown { get; }

    /// <summary>A user given by Entra object id: the id stands in for the UPN until <see cref="WithUpn"/>.</summary>
    public static UserRef ForObjectId(Guid objectId) => new(objectId.ToString("D"), objectId, upnKnown: false);

    /// <summary>The user of an object id with the UPN Graph answered for it.</summary>
    public UserRef WithUpn(UserRef resolved) => new(resolved.UserPrincipalName, ObjectId);

    /// <summary>SharePoint's claims name for a member or guest: <c>i:0#.f|membership|{upn}</c>.</summary>
    public string ClaimsAccountName => "i:0#.f|membership|" + UserPrincipalName;

    /// <summary>
    /// A file-name prefix derived the way older tenants named thumbnails (account name with '@' and
    /// '.' turned into '_'), with anything else outside [A-Za-z0-9_-] also turned into '_', so a
    /// guest's '#EXT#' never reaches a URL. Used only when the profile carries no object id.
    /// </summary>
    public string LegacyFilePrefix
    {
        get
        {
            var sb = new StringBuilder(UserPrincipalName.Length);
            foreach (var c in UserPrincipalName)
                sb.Append(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' ? c : '_');
            return sb.ToString();
        }
    }

    /// <summary>Parses admin input. Returns false with a message that says what is wrong and what to do.</summary>
    public static bool TryParse(string? input, out UserRef? user, out string error)
    {
        user = null;
        if (string.IsNullOrWhiteSpace(input))
        {
            error = "The user principal name is empty. Give a UPN such as 'adele@contoso.com'.";
            return false;
        }
        var upn = input.Trim().Normalize(NormalizationForm.FormC);
        if (upn.Length > 1024)
        {
            error = "The user principal name is longer than 1024 characters, which no Entra ID user has.";
            return false;
        }
        var at = upn.LastIndexOf('@');
        if (at <= 0 || at == upn.Length - 1)
        {
            error = $"'{upn}' is not a user principal name: it needs the form 'name@domain'.";
            return false;
        }
        var domain = upn[(at + 1)..];
        if (!domain.Contains('.') || domain.StartsWith('.') || domain.EndsWith('.') || domain.Contains(".."))
        {
            error = $"'{upn}' has no valid domain after '@'.";
            return false;
        }
        foreach (var c in upn)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '\\' or '"' or '<' or '>' or '|' or '?' or '*' or ':' or ',' or ';')
            {
                error = $"'{Printable(upn)}' contains the character '{Printable(c.ToString())}', which a user principal name cannot hold.";
                return false;
            }
        }
        if (upn[..at].IndexOf('@') >= 0)
        {
            error = $"'{upn}' contains more than one '@'.";
            return false;
        }
        user = new UserRef(upn);
        error = "";
        return true;
    }

    public static UserRef Parse(string input) =>
        TryParse(input, out var user, out var error) ? user! : throw new FormatException(error);

    private static string Printable(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s)
            sb.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString());
        return sb.ToString();
    }

    public bool Equals(UserRef? other) =>
        other is not null && string.Equals(UserPrincipalName, other.UserPrincipalName, StringComparison.OrdinalIgnoreCase);

    public override bool Equals(object? obj) => Equals(obj as UserRef);
    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(UserPrincipalName);
    public override string ToString() => UserPrincipalName;
}

/// <summary>The one place that turns text into URL and OData syntax.</summary>
public static class UrlText
{
    /// <summary>An OData string literal: quoted, with any ' doubled.</summary>
    public static string ODataLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>An OData literal as the value of a query-string parameter alias (<c>@a1=...</c>).</summary>
    public static string ODataAliasValue(string value) => Uri.EscapeDataString(ODataLiteral(value));

    /// <summary>Escapes each segment of a server-relative path, keeping the slashes: '/User Photos/x' becomes '/User%20Photos/x'.</summary>
    public static string EscapePath(string serverRelativePath) =>
        string.Join('/', serverRelativePath.Split('/').Select(Uri.EscapeDataString));

    /// <summary>The decoded server-relative path of an absolute URL: '/User Photos/Profile Pictures/x_MThumb.jpg'.</summary>
    public static string ServerRelativePath(Uri absolute) => Uri.UnescapeDataString(absolute.AbsolutePath);

    /// <summary>True when two URIs name the same scheme, host and port (the unit a token is issued for).</summary>
    public static bool SameAuthority(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;
}
