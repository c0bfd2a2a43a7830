using System.Reflection;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace ProfileSync.Core.Imaging;

/// <summary>
/// pwsh does not look in a module's runtimes/{rid}/native folder, so the first Skia call would fail
/// with DllNotFoundException. This resolver maps SkiaSharp's native library to the module folder
/// on Linux (glibc and musl), Windows and macOS, and caches the handle (it is asked many times).
/// </summary>
public static class SkiaNativeLibrary
{
    private static int _registered;
    private static IntPtr _handle;

    public static void UseFolder(string moduleFolder)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(SKImage).Assembly, (name, assembly, searchPath) => Resolve(moduleFolder, name, assembly, searchPath));
        }
        catch (InvalidOperationException)
        {
            // Another loader already set a resolver for this SkiaSharp assembly; it is in charge.
        }
    }

    private static IntPtr Resolve(string folder, string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.Contains("SkiaSharp", StringComparison.OrdinalIgnoreCase)) return IntPtr.Zero;
        if (_handle != IntPtr.Zero) return _handle;
        foreach (var candidate in Candidates(folder))
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                return _handle = handle;
        }
        return NativeLibrary.TryLoad(name, assembly, searchPath, out var fallback) ? _handle = fallback : IntPtr.Zero;
    }

    internal static IEnumerable<string> Candidates(string folder) =>
        Candidates(folder, OperatingSystem.IsWindows() ? OSPlatform.Windows : OperatingSystem.IsMacOS() ? OSPlatform.OSX : OSPlatform.Linux,
            RuntimeInformation.ProcessArchitecture,
            RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase) || File.Exists("/etc/alpine-release"));

    /// <summary>Where the library is looked for on a platform, in order (the build ships these folders only).</summary>
    internal static IEnumerable<string> Candidates(string folder, OSPlatform os, Architecture architecture, bool musl)
    {
        var arch = architecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        string file;
        string[] rids;
        if (os == OSPlatform.Windows)
        {
            file = "libSkiaSharp.dll";
            rids = new[] { $"win-{arch}" };
        }
        else if (os == OSPlatform.OSX)
        {
            file = "libSkiaSharp.dylib";
            rids = new[] { "osx", $"osx-{arch}" };
        }
        else
        {
            file = "libSkiaSharp.so";
            rids = musl ? new[] { $"linux-musl-{arch}", $"linux-{arch}" } : new[] { $"linux-{arch}" };
        }
        foreach (var rid in rids) yield return Path.Combine(folder, "runtimes", rid, "native", file);
        yield return Path.Combine(folder, file);
    }
}
