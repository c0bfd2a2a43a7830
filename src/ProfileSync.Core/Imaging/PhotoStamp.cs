using System.Security.Cryptography;
using System.Text;

namespace ProfileSync.Core.Imaging;

/// <summary>Which Exchange photo a thumbnail was made from: Graph's media etag and the SHA-256 of the bytes.</summary>
public sealed record PhotoIdentity(string ETag, string Sha256)
{
    public static PhotoIdentity Of(string etag, byte[] photo) => new(etag, Convert.ToHexString(SHA256.HashData(photo)).ToLowerInvariant());
}

/// <summary>
/// Writes and reads the identity stamp ProfileSync puts into the thumbnails it makes: a JPEG comment
/// (COM, 0xFFFE) segment right after the start-of-image marker. SharePoint stores library files byte
/// for byte, so reading the large thumbnail back tells which Exchange photo it came from, and a
/// check of a user ProfileSync synced needs no Exchange photo download while the etag is unchanged.
/// Viewers ignore COM segments.
/// </summary>
public static class PhotoStamp
{
    private const string Prefix = "ProfileSync/1;";

    public static byte[] Write(byte[] jpeg, PhotoIdentity identity)
    {
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new ArgumentException("Not a JPEG stream.", nameof(jpeg));
        var etag = Convert.ToBase64String(Encoding.UTF8.GetBytes(identity.ETag)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var payload = Encoding.ASCII.GetBytes($"{Prefix}etag={etag};sha256={identity.Sha256}");
        var length = payload.Length + 2;
        if (length > 0xFFFF) throw new ArgumentException("Stamp too long.");
        var result = new byte[jpeg.Length + 4 + payload.Length];
        result[0] = 0xFF; result[1] = 0xD8;
        result[2] = 0xFF; result[3] = 0xFE;
        result[4] = (byte)(length >> 8); result[5] = (byte)length;
        payload.CopyTo(result, 6);
        Array.Copy(jpeg, 2, result, 6 + payload.Length, jpeg.Length - 2);
        return result;
    }

    /// <summary>The stamp, or null when the file is not a JPEG ProfileSync wrote. Reads only the header segments.</summary>
    public static PhotoIdentity? Read(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return null;
        var pos = 2;
        while (pos + 4 <= jpeg.Length)
        {
            if (jpeg[pos] != 0xFF) return null;
            var marker = jpeg[pos + 1];
            if (marker == 0xFF) { pos++; continue; } // fill byte
            if (marker is 0xDA or 0xD9) return null; // start of scan / end of image: no more header segments
            var length = (jpeg[pos + 2] << 8) | jpeg[pos + 3];
            if (length < 2 || pos + 2 + length > jpeg.Length) return null;
            if (marker == 0xFE)
            {
                var text = Encoding.ASCII.GetString(jpeg.Slice(pos + 4, length - 2));
                if (text.StartsWith(Prefix, StringComparison.Ordinal)) return Parse(text[Prefix.Length..]);
            }
            pos += 2 + length;
        }
        return null;
    }

    private static PhotoIdentity? Parse(string fields)
    {
        string? etag = null, sha = null;
        foreach (var part in fields.Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var value = part[(eq + 1)..];
            switch (part[..eq])
            {
                case "etag":
                    try
                    {
                        var b64 = value.Replace('-', '+').Replace('_', '/');
                        b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
                        etag = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
                    }
                    catch (FormatException) { return null; }
                    break;
                case "sha256":
                    sha = value;
                    break;
            }
        }
        return etag is null || sha is null || sha.Length != 64 ? null : new PhotoIdentity(etag, sha);
    }
}
