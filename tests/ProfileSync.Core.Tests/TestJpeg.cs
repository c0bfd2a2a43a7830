using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>
/// A small JPEG writer for the kinds Skia cannot write: CMYK (Adobe APP14, inverted as Photoshop
/// writes it) and progressive (spectral selection: a DC scan, then one AC scan per component).
/// Plain DCT, a flat quantisation table and simple Huffman tables of fixed-length codes: correct
/// JPEG, not a good encoder.
/// </summary>
internal static class TestJpeg
{
    private const int Quantiser = 4;

    public static byte[] Encode(SKBitmap bitmap, bool cmyk, bool progressive)
    {
        int w = bitmap.Width, h = bitmap.Height, n = cmyk ? 4 : 3;
        var planes = Planes(bitmap, cmyk);
        int bw = (w + 7) / 8, bh = (h + 7) / 8;
        var blocks = new int[n][][];
        for (var c = 0; c < n; c++)
        {
            blocks[c] = new int[bw * bh][];
            for (var by = 0; by < bh; by++)
            for (var bx = 0; bx < bw; bx++)
                blocks[c][by * bw + bx] = Transform(planes[c], w, h, bx * 8, by * 8);
        }

        using var jpeg = new MemoryStream();
        void Bytes(params byte[] b) => jpeg.Write(b);
        void Marker(byte code, byte[] body)
        {
            Bytes(0xFF, code, (byte)((body.Length + 2) >> 8), (byte)(body.Length + 2));
            jpeg.Write(body);
        }

        Bytes(0xFF, 0xD8);
        if (cmyk) Marker(0xEE, [.. "Adobe"u8, 0, 100, 0, 0, 0, 0, 0]); // transform 0: components stored as they are
        else Marker(0xE0, [.. "JFIF"u8, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
        Marker(0xDB, [0, .. Enumerable.Repeat((byte)Quantiser, 64)]);
        var frame = new List<byte> { 8, (byte)(h >> 8), (byte)h, (byte)(w >> 8), (byte)w, (byte)n };
        for (var c = 0; c < n; c++) frame.AddRange([(byte)(c + 1), 0x11, 0]);
        Marker(progressive ? (byte)0xC2 : (byte)0xC0, frame.ToArray());
        Marker(0xC4, [0x00, .. Counts(4, DcSymbols.Length), .. DcSymbols, 0x10, .. Counts(8, AcSymbols.Length), .. AcSymbols]);

        byte[] Scan(IReadOnlyList<int> components, int start, int end)
        {
            var header = new List<byte> { (byte)components.Count };
            foreach (var c in components) header.AddRange([(byte)(c + 1), 0x00]);
            header.AddRange([(byte)start, (byte)end, 0]);
            return header.ToArray();
        }

        var all = Enumerable.Range(0, n).ToList();
        var bits = new BitWriter(jpeg);
        if (!progressive)
        {
            Marker(0xDA, Scan(all, 0, 63));
            var predictors = new int[n];
            for (var b = 0; b < bw * bh; b++)
            foreach (var c in all)
            {
                predictors[c] = WriteDc(bits, blocks[c][b], predictors[c]);
                WriteAc(bits, blocks[c][b]);
            }
            bits.Flush();
        }
        else
        {
            Marker(0xDA, Scan(all, 0, 0));
            var predictors = new int[n];
            for (var b = 0; b < bw * bh; b++)
            foreach (var c in all) predictors[c] = WriteDc(bits, blocks[c][b], predictors[c]);
            bits.Flush();
            foreach (var c in all)
            {
                Marker(0xDA, Scan([c], 1, 63));
                foreach (var block in blocks[c]) WriteAc(bits, block); // EOB is EOB0: end of band for this block
                bits.Flush();
            }
        }
        Bytes(0xFF, 0xD9);
        return jpeg.ToArray();
    }

    /// <summary>YCbCr as JFIF defines it, or CMYK inverted as Adobe writes it (stored C = R·255/K, stored K = max(R,G,B)).</summary>
    private static double[][] Planes(SKBitmap bitmap, bool cmyk)
    {
        int w = bitmap.Width, h = bitmap.Height;
        var planes = Enumerable.Range(0, cmyk ? 4 : 3).Select(_ => new double[w * h]).ToArray();
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var p = bitmap.GetPixel(x, y);
            double r = p.Red, g = p.Green, b = p.Blue;
            var i = y * w + x;
            if (cmyk)
            {
                var k = Math.Max(r, Math.Max(g, b));
                planes[0][i] = k == 0 ? 0 : r * 255 / k;
                planes[1][i] = k == 0 ? 0 : g * 255 / k;
                planes[2][i] = k == 0 ? 0 : b * 255 / k;
                planes[3][i] = k;
            }
            else
            {
                planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b;
                planes[1][i] = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
                planes[2][i] = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
            }
        }
        return planes;
    }

    private static readonly int[] ZigZag = BuildZigZag();

    private static int[] BuildZigZag()
    {
        var order = new List<int>();
        for (var s = 0; s < 15; s++)
        {
            var cells = Enumerable.Range(0, 8).Where(r => s - r is >= 0 and < 8).Select(r => r * 8 + (s - r));
            order.AddRange(s % 2 == 0 ? cells.Reverse() : cells); // even diagonals run upwards
        }
        return order.ToArray();
    }

    /// <summary>One 8x8 block (edges repeated): forward DCT, quantised, in zig-zag order.</summary>
    private static int[] Transform(double[] plane, int w, int h, int left, int top)
    {
        var f = new double[64];
        for (var y = 0; y < 8; y++)
        for (var x = 0; x < 8; x++)
            f[y * 8 + x] = plane[Math.Min(top + y, h - 1) * w + Math.Min(left + x, w - 1)] - 128;
        var coefficients = new int[64];
        for (var v = 0; v < 8; v++)
        for (var u = 0; u < 8; u++)
        {
            double sum = 0;
            for (var y = 0; y < 8; y++)
            for (var x = 0; x < 8; x++)
                sum += f[y * 8 + x] * Math.Cos((2 * x + 1) * u * Math.PI / 16) * Math.Cos((2 * y + 1) * v * Math.PI / 16);
            var cu = u == 0 ? Math.Sqrt(0.5) : 1;
            var cv = v == 0 ? Math.Sqrt(0.5) : 1;
            coefficients[v * 8 + u] = (int)Math.Round(0.25 * cu * cv * sum / Quantiser);
        }
        return ZigZag.Select(i => coefficients[i]).ToArray();
    }

    // Fixed-length Huffman codes: DC sizes 0..11 as 4-bit codes, the 162 AC symbols as 8-bit codes (never all ones).
    private static readonly byte[] DcSymbols = Enumerable.Range(0, 12).Select(i => (byte)i).ToArray();
    private static readonly byte[] AcSymbols = new byte[] { 0x00, 0xF0 }
        .Concat(Enumerable.Range(0, 16).SelectMany(run => Enumerable.Range(1, 10).Select(size => (byte)(run << 4 | size)))).ToArray();

    private static byte[] Counts(int length, int symbols)
    {
        var counts = new byte[16];
        counts[length - 1] = (byte)symbols;
        return counts;
    }

    private static int Size(int value) => value == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)Math.Abs(value));

    private static void WriteValue(BitWriter bits, int value, int size)
    {
        if (size > 0) bits.Write(value < 0 ? value + (1 << size) - 1 : value, size);
    }

    private static int WriteDc(BitWriter bits, int[] block, int predictor)
    {
        var diff = block[0] - predictor;
        var size = Size(diff);
        bits.Write(Array.IndexOf(DcSymbols, (byte)size), 4);
        WriteValue(bits, diff, size);
        return block[0];
    }

    private static void WriteAc(BitWriter bits, int[] block)
    {
        var run = 0;
        for (var k = 1; k < 64; k++)
        {
            if (block[k] == 0) { run++; continue; }
            for (; run > 15; run -= 16) bits.Write(Array.IndexOf(AcSymbols, (byte)0xF0), 8);
            var size = Size(block[k]);
            bits.Write(Array.IndexOf(AcSymbols, (byte)(run << 4 | size)), 8);
            WriteValue(bits, block[k], size);
            run = 0;
        }
        if (run > 0) bits.Write(0, 8); // EOB
    }

    private sealed class BitWriter(Stream output)
    {
        private int _buffer, _count;

        public void Write(int value, int count)
        {
            for (var i = count - 1; i >= 0; i--)
            {
                _buffer = _buffer << 1 | (value >> i & 1);
                if (++_count == 8) Emit();
            }
        }

        /// <summary>Pads the last byte with ones, as the standard asks.</summary>
        public void Flush()
        {
            while (_count != 0) Write(1, 1);
        }

        private void Emit()
        {
            output.WriteByte((byte)_buffer);
            if (_buffer == 0xFF) output.WriteByte(0); // a data byte 0xFF is stuffed so it is not read as a marker
            _buffer = 0;
            _count = 0;
        }
    }
}
