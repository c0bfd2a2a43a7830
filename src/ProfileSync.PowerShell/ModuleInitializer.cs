using System.Management.Automation;

namespace ProfileSync.PowerShell;

/// <summary>
/// Runs on Import-Module, after ProfileSync.Loader (a nested module) has set up the private load
/// context: points SkiaSharp at its native library in the module's dependencies folder.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport() => Core.Imaging.SkiaNativeLibrary.UseFolder(Loader.DependencyLoadContext.Folder);

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

    /// <summary>Ends one connection; when it is the current one, the session has none afterwards.</summary>
    public static void Disconnect(ProfileSync.Core.ProfileSyncConnection connection)
    {
        Interlocked.CompareExchange(ref _current, null, connection);
        connection.Dispose();
    }
}
