using System.Management.Automation;
using ProfileSync.Core.Imaging;

namespace ProfileSync.PowerShell;

/// <summary>Runs on Import-Module: points SkiaSharp at the native library shipped in the module folder.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport()
    {
        var folder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        SkiaNativeLibrary.UseFolder(folder);
    }

    public void OnRemove(PSModuleInfo module) => ProfileSyncSession.Disconnect();
}

/// <summary>The session's current connection (one per runspace process, as Connect-MgGraph does).</summary>
public static class ProfileSyncSession
{
    private static ProfileSync.Core.ProfileSyncConnection? _current;

    public static ProfileSync.Core.ProfileSyncConnection? Current => Volatile.Read(ref _current);

    public static void Set(ProfileSync.Core.ProfileSyncConnection connection) =>
        Interlocked.Exchange(ref _current, connection)?.Dispose();

    public static void Disconnect() => Interlocked.Exchange(ref _current, null)?.Dispose();
}
