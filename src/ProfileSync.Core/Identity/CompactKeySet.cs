using System.Security.Cryptography;
using System.Text;

namespace ProfileSync.Core.Identity;

/// <summary>
/// A set of strings kept as 128-bit digests (case-insensitive): a 100,000-row run remembers which
/// users or files it has met in about 3 MB instead of the strings themselves, so memory stays flat
/// as the tenant grows. A false match needs a SHA-256 collision in 128 bits.
/// </summary>
public sealed class CompactKeySet
{
    private readonly HashSet<UInt128> _keys = new();
    private readonly object _gate = new();

    public int Count { get { lock (_gate) return _keys.Count; } }

    public bool Add(string value) { var k = Key(value); lock (_gate) return _keys.Add(k); }
    public bool Contains(string value) { var k = Key(value); lock (_gate) return _keys.Contains(k); }
    public bool Remove(string value) { var k = Key(value); lock (_gate) return _keys.Remove(k); }

    private static UInt128 Key(string value) => Digest(value);

    /// <summary>The 128-bit digest of a string, case-insensitive: the key of every compact map of names.</summary>
    internal static UInt128 Digest(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value.ToUpperInvariant()), hash);
        return new UInt128(BitConverter.ToUInt64(hash[..8]), BitConverter.ToUInt64(hash[8..16]));
    }
}
