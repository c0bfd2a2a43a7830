using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ProfileSync.Loader;

/// <summary>
/// The private load context of ProfileSync's dependencies: ProfileSync.Core and everything it uses
/// (Microsoft.Graph, Kiota, Azure.Core/Identity, MSAL, SkiaSharp) load from the module's
/// 'dependencies' folder into this context only. Another module's Azure.Identity or MSAL in the
/// session cannot replace ours, and ours never reaches theirs ("Resolving PowerShell module
/// assembly dependency conflicts", PowerShell docs). Only ProfileSync.dll, whose public types are
/// ProfileSync's own and the BCL's, lives in the default context, with this loader.
/// </summary>
public sealed class DependencyLoadContext : AssemblyLoadContext
{
    public const string CoreAssemblyName = "ProfileSync.Core";
    private static readonly string FrameworkFolder = RuntimeEnvironment.GetRuntimeDirectory();
    private static DependencyLoadContext? _instance;
    private readonly string _folder;

    private DependencyLoadContext(string folder) : base("ProfileSync", isCollectible: false) => _folder = folder;

    public static string Folder => Instance._folder;

    public static DependencyLoadContext Instance => _instance ?? throw new InvalidOperationException("The module was not initialised.");

    /// <summary>Once per process: hooks the default context so that ProfileSync.dll finds ProfileSync.Core here.</summary>
    public static void Register(string moduleFolder)
    {
        if (_instance is not null) return;
        _instance = new DependencyLoadContext(Path.Combine(moduleFolder, "dependencies"));
        Default.Resolving += ResolveCore;
    }

    // The default context asks only for what ProfileSync.dll references itself: the core. Every other
    // name is someone else's to resolve.
    private static Assembly? ResolveCore(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == CoreAssemblyName ? Instance.LoadFromAssemblyName(name) : null;

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null) return null;
        // The shared framework's own assemblies are the runtime's: a private copy would split their types.
        if (File.Exists(Path.Combine(FrameworkFolder, name.Name + ".dll"))) return null;
        var path = Path.Combine(_folder, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}

/// <summary>
/// PowerShell reads a binary module's cmdlet types before it calls that module's initializer, and
/// ProfileSync's cmdlets use ProfileSync.Core types: so this loader is its own nested module,
/// imported before ProfileSync.dll, and registers the context on import.
/// </summary>
public sealed class LoaderInitializer : System.Management.Automation.IModuleAssemblyInitializer
{
    public void OnImport() =>
        DependencyLoadContext.Register(Path.GetDirectoryName(typeof(LoaderInitializer).Assembly.Location)!);
}
