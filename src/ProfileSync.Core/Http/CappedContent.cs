namespace ProfileSync.Core.Http;

/// <summary>Reads an answer's body up to a cap: refused from Content-Length when it says, else while streaming.</summary>
public static class CappedContent
{
    /// <param name="tooLarge">The error for a body over the cap, given the length known so far.</param>
    public static async Task<byte[]> ReadAsync(HttpContent content, long maxBytes, Func<long, Exception> tooLarge, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is long declared && declared > maxBytes) throw tooLarge(declared);
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw tooLarge(buffer.Length + read);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
