using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// Compiles a connector's <c>script.csx</c> (a C# class definition, not a C# script) against the script API and the
/// namespaces of <see cref="ScriptRules"/>, checks it, rewrites it for its time limit and loads it into a collectible
/// <see cref="AssemblyLoadContext"/>. One compilation per connector and script text: importing the same package again
/// reuses it, a changed script replaces (and unloads) the previous one. Thread-safe.
/// </summary>
public static class ScriptCompiler
{
    private static readonly Lazy<CSharpCompilation> Base = new(CreateBase);
    private static readonly ConcurrentDictionary<string, Lazy<CompiledScript>> ByHash = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> HashByConnector = new(StringComparer.OrdinalIgnoreCase);
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.None, SourceCodeKind.Regular);

    /// <summary>
    /// The compiled custom code of <paramref name="connectorName"/>. Throws <see cref="ConnectorImportException"/> naming
    /// <c>script.csx</c>, the line:column and the reason when the script is too large, does not compile, has no
    /// <c>Script : ScriptBase</c> class or uses something custom code may not use.
    /// </summary>
    public static CompiledScript Compile(string connectorName, string script)
    {
        ArgumentNullException.ThrowIfNull(connectorName);
        ArgumentNullException.ThrowIfNull(script);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)));
        var lazy = ByHash.GetOrAdd(hash, h => new Lazy<CompiledScript>(() => Build(script, h), LazyThreadSafetyMode.ExecutionAndPublication));
        CompiledScript compiled;
        try
        {
            compiled = lazy.Value;
        }
        catch (ConnectorImportException)
        {
            // A refused script is not kept: the next import checks again (and the cache holds only runnable code).
            ByHash.TryRemove(new KeyValuePair<string, Lazy<CompiledScript>>(hash, lazy));
            throw;
        }

        // The connector points at the new text first, so that the old one is forgotten unless another connector uses it.
        string? previous = null;
        HashByConnector.AddOrUpdate(connectorName, hash, (_, old) =>
        {
            previous = old;
            return hash;
        });
        if (previous is not null && previous != hash)
        {
            Forget(previous);
        }

        return compiled;
    }

    private static void Forget(string hash)
    {
        if (HashByConnector.Values.Contains(hash, StringComparer.Ordinal))
        {
            return;
        }

        if (ByHash.TryRemove(hash, out var old) && old.IsValueCreated)
        {
            // Calls still running keep the old code alive; the context goes once they finish and nothing refers to it.
            old.Value.Unload();
        }
    }

    private static CompiledScript Build(string script, string hash)
    {
        var started = Stopwatch.GetTimestamp();
        var runnable = Analyse(script);
        return new CompiledScript(hash, () => Load(runnable, hash), Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Checks the script; returns it rewritten for its time limit, ready to emit.</summary>
    private static SyntaxTree Analyse(string script)
    {
        var bytes = Encoding.UTF8.GetByteCount(script);
        if (bytes >= ScriptRules.MaxScriptBytes)
        {
            throw Fail(1, 1, $"the script is {bytes} bytes; custom code must be smaller than {ScriptRules.MaxScriptBytes} bytes (1 MB)");
        }

        var tree = CSharpSyntaxTree.ParseText(script, ParseOptions, ConnectorPackageReader.ScriptFile, Encoding.UTF8);
        var compilation = Base.Value.AddSyntaxTrees(tree);
        var model = compilation.GetSemanticModel(tree, ignoreAccessibility: false);
        var diagnostics = model.GetDiagnostics();
        if (ScriptChecker.FindViolation(tree, model) is { } violation)
        {
            throw Fail(violation.Line, violation.Column, violation.Reason);
        }

        // Syntax errors first: they explain the semantic errors that follow from them.
        var error = tree.GetDiagnostics().FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error)
            ?? diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).OrderBy(d => d.Location.SourceSpan.Start).FirstOrDefault();
        if (error is not null)
        {
            var at = error.Location.GetLineSpan().StartLinePosition;
            throw Fail(at.Line + 1, at.Character + 1, $"does not compile: {error.Id}: {error.GetMessage(CultureInfo.InvariantCulture)}");
        }

        var entry = compilation.GetSymbolsWithName("Script", SymbolFilter.Type).OfType<INamedTypeSymbol>()
            .FirstOrDefault(t => Inherits(t, compilation.GetTypeByMetadataName(typeof(ScriptBase).FullName!)));
        if (entry is null || entry.IsAbstract || entry.ContainingType is not null || !entry.ContainingNamespace.IsGlobalNamespace
            || !entry.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public))
        {
            throw Fail(1, 1, "defines no 'public class Script : ScriptBase' (in no namespace, not abstract, with a public parameterless constructor)");
        }

        var rewritten = new BudgetRewriter(model).Visit(tree.GetRoot());
        return tree.WithRootAndOptions(rewritten, ParseOptions);
    }

    // Emitting is left to the first call: importing (and listing) connectors then costs only the checks.
    private static Type Load(SyntaxTree runnable, string hash)
    {
        using var output = new MemoryStream();
        var result = Base.Value.AddSyntaxTrees(runnable).Emit(output);
        if (!result.Success)
        {
            var first = result.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Error);
            throw new InvalidOperationException(
                $"The custom code passed its checks but did not compile once prepared for its time limit ({first.Id}: {first.GetMessage(CultureInfo.InvariantCulture)}).");
        }

        output.Position = 0;
        var context = new AssemblyLoadContext("script " + hash[..12], isCollectible: true);
        var loaded = context.LoadFromStream(output);
        return loaded.GetType("Script", throwOnError: true)!;
    }

    private static bool Inherits(INamedTypeSymbol type, INamedTypeSymbol? baseType)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, baseType))
            {
                return true;
            }
        }

        return false;
    }

    // Every script compilation derives from this one, so the referenced assemblies are read and bound once per process.
    private static CSharpCompilation CreateBase()
    {
        // The namespaces Microsoft's host imports implicitly, plus the script API; empty declarations let the imports
        // of namespaces .NET here lacks compile.
        var prelude = new StringBuilder();
        foreach (var ns in ScriptRules.AllowedNamespaces.Order(StringComparer.Ordinal))
        {
            prelude.Append("global using global::").Append(ns).AppendLine(";");
        }

        prelude.Append("global using global::").Append(typeof(ScriptBase).Namespace).AppendLine(";");
        foreach (var ns in ScriptRules.CompatibilityNamespaces)
        {
            prelude.Append("namespace ").Append(ns).AppendLine(" { }");
        }

        var preludeTree = CSharpSyntaxTree.ParseText(prelude.ToString(), ParseOptions, "prelude.cs", Encoding.UTF8);
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithAllowUnsafe(false)
            .WithNullableContextOptions(NullableContextOptions.Disable)
            .WithConcurrentBuild(false);

        // Each script is loaded into its own context, so they can all carry the same assembly name.
        return CSharpCompilation.Create("CausewayScript", [preludeTree], LoadReferences(), options);
    }

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        // The framework's own assemblies (what the allowed namespaces live in; the checks keep a script inside those
        // namespaces), Newtonsoft.Json, the logging abstractions and the script API. Not Microsoft.CSharp: no 'dynamic'.
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var paths = trusted.Where(p => string.Equals(Path.GetDirectoryName(p), framework, StringComparison.Ordinal))
            .Where(p => Path.GetFileName(p) is var name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "netstandard.dll" or "mscorlib.dll"))
            .ToList();
        paths.Add(typeof(Newtonsoft.Json.JsonConvert).Assembly.Location);
        paths.Add(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location);
        paths.Add(typeof(ScriptBase).Assembly.Location);
        return paths.Distinct(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    private static ConnectorImportException Fail(int line, int column, string reason) =>
        new(ConnectorPackageReader.ScriptFile, $"{line}:{column}", reason);

}
