using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Reporting;

/// <summary>What a report says about itself.</summary>
public sealed record HtmlReportInfo(string Title, string? Tenant, DateTimeOffset GeneratedAt, string? PhotoNote);

/// <summary>
/// One self-contained HTML file: counts per state, a filter by state, a search box, and a page of
/// users at a time with the Exchange and SharePoint photos side by side. No network: photos are
/// embedded as data: URIs, and a Content-Security-Policy lets the page load nothing and run only its
/// own script (pinned by hash). User-controlled text reaches the page only as JSON data that the
/// script puts into text nodes, or HTML-encoded: a name such as &lt;img onerror=...&gt; shows as text.
/// Rows are written one by one, so the file streams out at any size.
/// </summary>
public static class HtmlReport
{
    private static readonly PhotoState[] States = Enum.GetValues<PhotoState>();

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <param name="photos">Fetches a user's photos; null for a report without photos.</param>
    /// <param name="concurrency">Users whose photos are fetched at once.</param>
    /// <param name="progress">Called with the number of users written so far (from any thread).</param>
    public static async Task WriteAsync(TextWriter writer, IReadOnlyList<ReportRow> rows, HtmlReportInfo info,
        Func<ReportRow, CancellationToken, Task<ReportPhotoPair>>? photos, int concurrency, Action<int>? progress, CancellationToken cancellationToken)
    {
        var counts = States.ToDictionary(s => s, s => rows.Count(r => r.State == s));
        var actions = rows.Where(r => r.Action is not null).GroupBy(ActionText).ToDictionary(g => g.Key!, g => g.Count());
        var style = Style;
        var script = Script;
        var csp = $"default-src 'none'; img-src data:; style-src '{Hash(style)}'; script-src '{Hash(script)}'; base-uri 'none'; form-action 'none'";

        var head = new StringBuilder();
        head.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        head.Append($"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n");
        head.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        head.Append($"<title>{E(info.Title)}</title>\n<style>{style}</style>\n</head>\n<body>\n");
        head.Append($"<h1>{E(info.Title)}</h1>\n<p class=\"meta\">");
        if (info.Tenant is not null) head.Append($"Tenant <b>{E(info.Tenant)}</b> · ");
        head.Append($"{rows.Count.ToString("N0", CultureInfo.InvariantCulture)} users · generated {E(info.GeneratedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))} by ProfileSync");
        if (info.PhotoNote is not null) head.Append($" · {E(info.PhotoNote)}");
        head.Append("</p>\n<nav id=\"filters\" aria-label=\"Filter by state\">\n");
        head.Append($"<button type=\"button\" data-state=\"All\" class=\"on\">All <span id=\"count-All\">{rows.Count}</span></button>\n");
        foreach (var state in States)
            head.Append($"<button type=\"button\" data-state=\"{state}\" class=\"st-{state}\">{state} <span id=\"count-{state}\">{counts[state]}</span></button>\n");
        head.Append("</nav>\n");
        if (actions.Count > 0)
            head.Append("<p class=\"meta\">Actions: ").Append(string.Join(" · ", actions.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{E(a.Key)} {a.Value}"))).Append("</p>\n");
        head.Append("<p><input id=\"search\" type=\"search\" placeholder=\"Search users and reasons\" aria-label=\"Search\"> <span id=\"shown\"></span></p>\n");
        head.Append("<table>\n<thead><tr><th>Exchange</th><th>SharePoint</th><th>User</th><th>State</th><th>Action</th><th>Reason</th></tr></thead>\n<tbody id=\"rows\"></tbody>\n</table>\n");
        head.Append("<p id=\"pager\"><button type=\"button\" id=\"prev\">Previous</button> <span id=\"page\"></span> <button type=\"button\" id=\"next\">Next</button></p>\n");
        head.Append("<noscript><p>The table needs JavaScript; the counts above do not.</p></noscript>\n");
        head.Append("<script type=\"application/json\" id=\"data\">[");
        await writer.WriteAsync(head.ToString()).ConfigureAwait(false);

        // Photos of a window of users are fetched side by side; rows are written in order.
        var window = Math.Max(1, concurrency) * 4;
        using var gate = new SemaphoreSlim(Math.Max(1, concurrency));
        for (var start = 0; start < rows.Count; start += window)
        {
            var slice = rows.Skip(start).Take(window).ToList();
            var pairs = await Task.WhenAll(slice.Select(async row =>
            {
                if (photos is null) return new ReportPhotoPair(null, null, null);
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { return await photos(row, cancellationToken).ConfigureAwait(false); }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
            for (var i = 0; i < slice.Count; i++)
            {
                if (start + i > 0) await writer.WriteAsync(",\n").ConfigureAwait(false);
                await writer.WriteAsync(RowJson(slice[i], pairs[i])).ConfigureAwait(false);
            }
            progress?.Invoke(start + slice.Count);
        }
        await writer.WriteAsync("]</script>\n<script>" + script + "</script>\n</body>\n</html>\n").ConfigureAwait(false);
    }

    /// <summary>
    /// A row as JSON. System.Text.Json's default encoder writes &lt;, &gt;, &amp; and quotes as \u escapes, so
    /// no text can close the data block or start markup.
    /// </summary>
    internal static string RowJson(ReportRow row, ReportPhotoPair photos) => JsonSerializer.Serialize(new
    {
        u = row.UserPrincipalName,
        d = row.DisplayName,
        s = row.State?.ToString(),
        g = row.Operation is null ? null : $"Exchange {row.Exchange} · SharePoint {row.SharePoint}",
        a = ActionText(row),
        r = row.Reason,
        // The ErrorId once: not again when the reason already names it.
        e = row.ErrorId is { } id && row.Reason?.Contains(id, StringComparison.Ordinal) != true ? id : null,
        n = photos.Note,
        x = photos.Exchange is null ? null : Convert.ToBase64String(photos.Exchange),
        p = photos.SharePoint is null ? null : Convert.ToBase64String(photos.SharePoint),
    }, Json);

    /// <summary>What the row's command did: "WouldUpdate" for a sync, "Set Updated" or "Remove Failed" for a change.</summary>
    private static string? ActionText(ReportRow row) => row.Operation is null ? row.Action : $"{row.Operation} {row.Action}";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    // The .st-* colours come from PhotoStateRules, so every state, a new one too, has its class.
    internal static readonly string Style = BaseStyle.Replace("/*states*/", string.Concat(PhotoStateRules.All.Select(r => $".st-{r.State}{{color:{r.ReportStyle}}}")));

    private const string BaseStyle = """
body{font-family:Segoe UI,system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}.meta{color:#555;margin:.2em 0}
nav button,#pager button{margin:.2em .3em .2em 0;padding:.3em .7em;border:1px solid #bbb;border-radius:1em;background:#f7f7f7;cursor:pointer}
nav button.on{background:#0f6cbd;color:#fff;border-color:#0f6cbd}
#search{width:22em;padding:.3em}
table{border-collapse:collapse;margin-top:.5em;width:100%}td.user{min-width:10em;max-width:22em;overflow-wrap:anywhere}td.reason{min-width:12em;overflow-wrap:anywhere}.upn{color:#666;font-size:.85em}th,td{padding:.25em .6em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:middle}
@media (max-width:900px){body{margin:.6em}table{font-size:.875em}th,td{padding:.2em .3em}td img{width:40px;height:40px}}
td img{width:48px;height:48px;border-radius:50%;display:block}td.nophoto{color:#999;text-align:center}
/*states*/
nav button.on span{color:#fff}
""";

    private const string Script = """
(function () {
  var rows = JSON.parse(document.getElementById('data').textContent);
  var state = 'All', query = '', page = 0, size = 100;
  var body = document.getElementById('rows');
  function text(value, cls) { var td = document.createElement('td'); td.textContent = value || ''; if (cls) td.className = cls; return td; }
  function photo(base64, side) {
    var td = document.createElement('td');
    if (!base64) { td.className = 'nophoto'; td.textContent = '\u2014'; return td; }
    var img = document.createElement('img');
    img.alt = side + ' photo'; img.width = 48; img.height = 48; img.loading = 'lazy';
    img.src = 'data:image/jpeg;base64,' + base64;
    td.appendChild(img); return td;
  }
  function matches(r) {
    if (state !== 'All' && r.s !== state) return false;
    if (!query) return true;
    return [r.u, r.d, r.r].some(function (t) { return (t || '').toLowerCase().indexOf(query) >= 0; });
  }
  function render() {
    var list = rows.filter(matches);
    var pages = Math.max(1, Math.ceil(list.length / size));
    if (page >= pages) page = pages - 1;
    while (body.firstChild) body.removeChild(body.firstChild);
    list.slice(page * size, (page + 1) * size).forEach(function (r) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-state', r.s);
      tr.appendChild(photo(r.x, 'Exchange'));
      tr.appendChild(photo(r.p, 'SharePoint'));
      var who = text(r.d || r.u, 'user');
      if (r.d) { var upn = document.createElement('div'); upn.className = 'upn'; upn.textContent = r.u; who.appendChild(upn); }
      tr.appendChild(who);
      tr.appendChild(r.s ? text(r.s, 'st-' + r.s) : text(r.g, 'sides'));
      tr.appendChild(text(r.a, 'action'));
      tr.appendChild(text([r.r, r.e, r.n].filter(Boolean).join(' \u00b7 '), 'reason'));
      body.appendChild(tr);
    });
    document.getElementById('shown').textContent = list.length + (list.length === 1 ? ' user' : ' users');
    document.getElementById('page').textContent = 'page ' + (page + 1) + ' of ' + pages;
    document.getElementById('prev').disabled = page === 0;
    document.getElementById('next').disabled = page >= pages - 1;
  }
  Array.prototype.forEach.call(document.querySelectorAll('#filters button'), function (b) {
    b.addEventListener('click', function () {
      state = b.getAttribute('data-state'); page = 0;
      Array.prototype.forEach.call(document.querySelectorAll('#filters button'), function (o) { o.classList.toggle('on', o === b); });
      render();
    });
  });
  document.getElementById('search').addEventListener('input', function (e) { query = e.target.value.trim().toLowerCase(); page = 0; render(); });
  document.getElementById('prev').addEventListener('click', function () { page--; render(); });
  document.getElementById('next').addEventListener('click', function () { page++; render(); });
  render();
})();
""";
}
