using System.Collections.Frozen;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// What custom code may use. Microsoft's host supports a fixed list of namespaces; Causeway imports them all implicitly
/// (as that host does) and lets a script use nothing outside them. Inside them, the types and members that would give a
/// script the server's own rights (files, processes, environment, reflection, raw network, threads, process-wide state)
/// are denied by name, with the reason shown in the import error.
/// </summary>
internal static class ScriptRules
{
    /// <summary>Largest script, in UTF-8 bytes: Microsoft's limit is "less than 1 MB".</summary>
    public const int MaxScriptBytes = 1024 * 1024;

    /// <summary>Microsoft's supported namespaces for custom code ("Write code in a custom connector").</summary>
    public static readonly FrozenSet<string> AllowedNamespaces = new[]
    {
        "System", "System.Collections", "System.Collections.Generic", "System.Diagnostics", "System.IO", "System.IO.Compression",
        "System.Linq", "System.Net", "System.Net.Http", "System.Net.Http.Headers", "System.Net.Security", "System.Security.Authentication",
        "System.Security.Cryptography", "System.Text", "System.Text.RegularExpressions", "System.Threading", "System.Threading.Tasks",
        "System.Web", "System.Xml", "System.Xml.Linq", "System.Drawing", "System.Drawing.Drawing2D", "System.Drawing.Imaging",
        "Microsoft.Extensions.Logging", "Newtonsoft.Json", "Newtonsoft.Json.Linq",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Namespaces outside Microsoft's list that published scripts use by full name (Microsoft's host does not stop that)
    /// and that give nothing beyond data handling: NameValueCollection (what HttpUtility.ParseQueryString returns),
    /// CultureInfo, Newtonsoft's converters and contract resolvers, serialization callback attributes. Allowed, not imported.
    /// </summary>
    public static readonly FrozenSet<string> AlsoAllowedNamespaces = new[]
    {
        "System.Collections.Specialized", "System.Globalization", "System.Runtime.Serialization", "Newtonsoft.Json.Converters",
        "Newtonsoft.Json.Serialization",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Namespaces that scripts published for Microsoft's host import although .NET here does not have them (the host ran
    /// on .NET Framework, or provides the script API under that name). They are declared empty so that such a using compiles;
    /// nothing can be used from them.
    /// </summary>
    public static readonly IReadOnlyList<string> CompatibilityNamespaces =
    [
        "Microsoft.PowerPlatform.Connectors.CustomCode.CSharp",
        "System.Runtime.Remoting.Contexts",
    ];

    /// <summary>Denied types (metadata names), with why.</summary>
    public static readonly FrozenDictionary<string, string> DeniedTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["System.Environment"] = "the server's environment variables, command line and exit are not for custom code",
        ["System.AppDomain"] = "process-wide state is not for custom code",
        ["System.AppContext"] = "process-wide switches and data are not for custom code",
        ["System.GC"] = "the garbage collector is process-wide",
        ["System.Console"] = "the server's console is not for custom code; use Context.Logger",
        ["System.Activator"] = "creating types by name bypasses these checks",
        ["System.Diagnostics.Process"] = "starting or inspecting processes is not allowed",
        ["System.Diagnostics.ProcessStartInfo"] = "starting processes is not allowed",
        ["System.Diagnostics.Debugger"] = "the debugger is process-wide",
        ["System.Diagnostics.EventLog"] = "the system event log is not for custom code",
        ["System.Diagnostics.FileVersionInfo"] = "reading files is not allowed",
        ["System.Diagnostics.Trace"] = "trace listeners are process-wide; use Context.Logger",
        ["System.Diagnostics.TraceSource"] = "trace listeners are process-wide; use Context.Logger",
        ["System.Diagnostics.TraceListener"] = "trace listeners are process-wide; use Context.Logger",
        ["System.Diagnostics.TextWriterTraceListener"] = "trace listeners write files",
        ["System.Diagnostics.DefaultTraceListener"] = "trace listeners write files",
        ["System.Diagnostics.DelimitedListTraceListener"] = "trace listeners write files",
        ["System.IO.File"] = "the file system is not for custom code",
        ["System.IO.FileInfo"] = "the file system is not for custom code",
        ["System.IO.FileSystemInfo"] = "the file system is not for custom code",
        ["System.IO.Directory"] = "the file system is not for custom code",
        ["System.IO.DirectoryInfo"] = "the file system is not for custom code",
        ["System.IO.DriveInfo"] = "the file system is not for custom code",
        ["System.IO.FileStream"] = "the file system is not for custom code",
        ["System.IO.FileSystemWatcher"] = "the file system is not for custom code",
        ["System.IO.RandomAccess"] = "the file system is not for custom code",
        ["System.IO.UnmanagedMemoryStream"] = "raw memory is not for custom code",
        ["System.IO.Compression.ZipFile"] = "the file system is not for custom code",
        ["System.IO.Compression.ZipFileExtensions"] = "the file system is not for custom code",
        ["System.Net.WebClient"] = "requests go out only through Context.SendAsync",
        ["System.Net.WebRequest"] = "requests go out only through Context.SendAsync",
        ["System.Net.HttpWebRequest"] = "requests go out only through Context.SendAsync",
        ["System.Net.FtpWebRequest"] = "requests go out only through Context.SendAsync",
        ["System.Net.FileWebRequest"] = "the file system is not for custom code",
        ["System.Net.HttpListener"] = "listening for connections is not allowed",
        ["System.Net.ServicePointManager"] = "process-wide network settings are not for custom code",
        ["System.Net.Dns"] = "requests go out only through Context.SendAsync",
        ["System.Net.Http.HttpClient"] = "requests go out only through Context.SendAsync",
        ["System.Net.Http.HttpClientHandler"] = "requests go out only through Context.SendAsync",
        ["System.Net.Http.SocketsHttpHandler"] = "requests go out only through Context.SendAsync",
        ["System.Net.Http.HttpMessageInvoker"] = "requests go out only through Context.SendAsync",
        ["System.Net.Security.SslStream"] = "raw connections are not allowed; requests go out only through Context.SendAsync",
        ["System.Net.Security.NegotiateStream"] = "raw connections are not allowed; requests go out only through Context.SendAsync",
        ["System.Threading.Thread"] = "threads created by custom code would outlive its time limit",
        ["System.Threading.ThreadPool"] = "work queued by custom code would outlive its time limit",
        ["System.Threading.Timer"] = "timer callbacks would outlive the call's time limit",
        ["System.Threading.ExecutionContext"] = "suppressing the execution context escapes the time limit",
        ["System.Threading.SynchronizationContext"] = "the thread's synchronization context belongs to the server",
        ["System.Threading.Mutex"] = "named system-wide synchronization objects are not allowed",
        ["System.Threading.Semaphore"] = "named system-wide synchronization objects are not allowed",
        ["System.Threading.EventWaitHandle"] = "named system-wide synchronization objects are not allowed",
        ["System.Threading.Tasks.Parallel"] = "parallel loops would take the server's cores",
        ["System.Threading.Tasks.TaskFactory"] = "long-running tasks would outlive the call's time limit",
        ["System.Linq.Queryable"] = "IQueryable builds expression trees, which compile code at run time",
        ["System.Threading.Tasks.TaskScheduler"] = "process-wide task events and schedulers are not for custom code",
        ["System.Runtime.Serialization.FormatterServices"] = "creating objects without their constructors bypasses these checks",
        ["Newtonsoft.Json.TypeNameHandling"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.Serialization.ISerializationBinder"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.Serialization.DefaultSerializationBinder"] = "type names in JSON let a payload create any type",
        ["System.Xml.XmlUrlResolver"] = "resolving URLs and files is not allowed",
        ["System.Xml.XmlSecureResolver"] = "resolving URLs and files is not allowed",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Denied members ("Type.Member", metadata type name), with why.</summary>
    public static readonly FrozenDictionary<string, string> DeniedMembers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["System.IO.Path.GetTempPath"] = "the file system is not for custom code",
        ["System.IO.Path.GetTempFileName"] = "the file system is not for custom code",
        ["System.IO.Path.GetFullPath"] = "the server's working directory is not for custom code",
        ["System.Threading.Tasks.Task.Factory"] = "long-running tasks would outlive the call's time limit",
        ["System.Delegate.CreateDelegate"] = "binding methods by name bypasses these checks",
        ["System.Type.FindMembers"] = "reflection bypasses these checks",
        ["System.Text.Encoding.RegisterProvider"] = "encoding providers are process-wide",
        ["System.Globalization.CultureInfo.DefaultThreadCurrentCulture"] = "the default culture is process-wide",
        ["System.Globalization.CultureInfo.DefaultThreadCurrentUICulture"] = "the default culture is process-wide",
        ["Newtonsoft.Json.JsonConvert.DefaultSettings"] = "Newtonsoft.Json's defaults are shared by every script",
        ["Newtonsoft.Json.JsonSerializerSettings.TypeNameHandling"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.JsonSerializerSettings.SerializationBinder"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.JsonSerializer.TypeNameHandling"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.JsonSerializer.SerializationBinder"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.JsonPropertyAttribute.TypeNameHandling"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.JsonPropertyAttribute.ItemTypeNameHandling"] = "type names in JSON let a payload create any type",
        ["Newtonsoft.Json.JsonContainerAttribute.ItemTypeNameHandling"] = "type names in JSON let a payload create any type",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Members of denied types that published scripts use and that are harmless: the line separator, tick counts, the
    /// current thread's culture and id, and Thread.Sleep (which the host rewrites to a sleep that ends at the deadline).
    /// </summary>
    public static readonly FrozenSet<string> AllowedMembers = new[]
    {
        "System.Environment.NewLine", "System.Environment.TickCount", "System.Environment.TickCount64",
        "System.Threading.Thread.Sleep", "System.Threading.Thread.CurrentThread", "System.Threading.Thread.CurrentCulture",
        "System.Threading.Thread.CurrentUICulture", "System.Threading.Thread.ManagedThreadId",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Reflection through <see cref="Type"/>: looking members up by name bypasses these checks.</summary>
    public static bool IsTypeReflection(string memberName) =>
        memberName is "GetType" or "InvokeMember" or "TypeInitializer" or "ReflectionOnlyGetType" or "GetTypeFromProgID" or "GetTypeFromCLSID"
        || (memberName.StartsWith("Get", StringComparison.Ordinal) && (memberName.Contains("Method", StringComparison.Ordinal)
            || memberName.Contains("Field", StringComparison.Ordinal) || memberName.Contains("Propert", StringComparison.Ordinal)
            || memberName.Contains("Member", StringComparison.Ordinal) || memberName.Contains("Constructor", StringComparison.Ordinal)
            || memberName.Contains("Event", StringComparison.Ordinal) || memberName.Contains("Nested", StringComparison.Ordinal)));

    /// <summary>
    /// Namespaces where a method or constructor whose first parameter is a string named like a path or URL opens that file
    /// or URL (StreamReader(path), XDocument.Load(uri), XmlReader.Create(inputUri) ...).
    /// </summary>
    public static readonly FrozenSet<string> PathTakingNamespaces = new[] { "System.IO", "System.Xml", "System.Xml.Linq", "System.Diagnostics" }
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Parameter names that mean a file path or URL to open.</summary>
    public static readonly FrozenSet<string> PathParameterNames = new[] { "path", "filename", "uri", "inputuri", "outputfilename", "url", "file" }
        .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
}
