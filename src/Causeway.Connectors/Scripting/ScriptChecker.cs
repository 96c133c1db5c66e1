using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// Walks a compiled script's syntax with its semantic model and reports the first use of something outside
/// <see cref="ScriptRules"/>, with its position. Runs before anything of the script is emitted or loaded.
/// </summary>
internal static class ScriptChecker
{
    /// <summary>The first violation, or null when the script passes.</summary>
    public static ScriptViolation? FindViolation(SyntaxTree tree, SemanticModel model)
    {
        foreach (var node in tree.GetRoot().DescendantNodesAndSelf())
        {
            if (CheckSyntax(node) is { } syntaxReason)
            {
                return At(node, syntaxReason);
            }

            var symbol = node switch
            {
                // 'var' names the inferred type; the expression that gives it is checked where it is written.
                IdentifierNameSyntax { IsVar: true } => null,
                SimpleNameSyntax or BaseObjectCreationExpressionSyntax => Bound(model, node),
                _ => null,
            };
            if (symbol is not null && CheckSymbol(symbol, IsMemberAccessTarget(node)) is { } reason)
            {
                return At(node, reason);
            }

            // Async void methods are rewritten to return a Task (BudgetRewriter); a lambda's delegate type cannot be changed.
            if (node is AnonymousFunctionExpressionSyntax && model.GetSymbolInfo(node).Symbol is IMethodSymbol { IsAsync: true, ReturnsVoid: true })
            {
                return At(node, "an async lambda that returns void is not allowed: an exception in it would end the server process; use a Func<Task>");
            }
        }

        return null;
    }

    private static ScriptViolation At(SyntaxNode node, string reason)
    {
        var position = node.GetLocation().GetLineSpan().StartLinePosition;
        return new ScriptViolation(position.Line + 1, position.Character + 1, reason);
    }

    private static ISymbol? Bound(SemanticModel model, SyntaxNode node)
    {
        var info = model.GetSymbolInfo(node);
        return info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
    }

    private static string? CheckSyntax(SyntaxNode node) => node switch
    {
        PointerTypeSyntax or FunctionPointerTypeSyntax => "pointers are not allowed (unsafe code)",
        FixedStatementSyntax => "'fixed' is not allowed (unsafe code)",
        UnsafeStatementSyntax => "'unsafe' is not allowed",
        StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax => "'stackalloc' is not allowed: it can exhaust the server's stack",
        DestructorDeclarationSyntax => "finalizers are not allowed: they run on the server's finalizer thread, outside any call",
        MemberDeclarationSyntax m when m.Modifiers.Any(SyntaxKind.UnsafeKeyword) => "'unsafe' is not allowed",
        MemberDeclarationSyntax m when m.Modifiers.Any(SyntaxKind.ExternKeyword) => "'extern' methods are not allowed (native code)",
        LocalFunctionStatementSyntax l when l.Modifiers.Any(SyntaxKind.UnsafeKeyword) => "'unsafe' is not allowed",
        LocalFunctionStatementSyntax l when l.Modifiers.Any(SyntaxKind.ExternKeyword) => "'extern' methods are not allowed (native code)",
        _ => null,
    };

    // In 'Thread.Sleep(...)' the type only qualifies the member; the member is what is checked.
    private static bool IsMemberAccessTarget(SyntaxNode node)
    {
        // 'System.Threading.Thread.Sleep': the name 'Thread' ends the qualifier 'System.Threading.Thread'.
        var qualifier = node.Parent switch
        {
            MemberAccessExpressionSyntax m when m.Name == node => m,
            QualifiedNameSyntax q when q.Right == node => q,
            _ => node,
        };
        return qualifier.Parent is MemberAccessExpressionSyntax access && access.Expression == qualifier;
    }

    private static string? CheckSymbol(ISymbol symbol, bool qualifiesMember)
    {
        if (symbol is INamespaceSymbol or ILocalSymbol or IParameterSymbol or IRangeVariableSymbol or ILabelSymbol or IDiscardSymbol or IPreprocessingSymbol)
        {
            return null;
        }

        if (symbol is ITypeSymbol { TypeKind: TypeKind.Dynamic })
        {
            return "'dynamic' is not allowed: it binds at run time, past these checks";
        }

        var type = symbol as ITypeSymbol ?? symbol.ContainingType;
        if (type is null)
        {
            return null;
        }

        while (type is IArrayTypeSymbol array)
        {
            type = array.ElementType;
        }

        if (type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
        {
            return "pointers are not allowed (unsafe code)";
        }

        if (type is ITypeParameterSymbol || type.Locations.Any(l => l.IsInSource))
        {
            return null;
        }

        var outer = type;
        while (outer.ContainingType is { } containing)
        {
            outer = containing;
        }

        var original = outer.OriginalDefinition;
        var ns = original.ContainingNamespace?.ToDisplayString() ?? "";
        var name = Display(original);
        if (ns == typeof(ScriptBase).Namespace)
        {
            return original.Name is nameof(ScriptBase) or nameof(IScriptContext) ? null : $"'{name}' is the host's, not part of the script API";
        }

        if (!ScriptRules.AllowedNamespaces.Contains(ns) && !ScriptRules.AlsoAllowedNamespaces.Contains(ns))
        {
            return $"'{name}' is in namespace '{(ns.Length == 0 ? "<global>" : ns)}', which custom code may not use (allowed: the namespaces of Microsoft's custom-code host, see docs/connectors.md)";
        }

        var member = symbol is IMethodSymbol { ReducedFrom: { } reduced } ? reduced : symbol;
        var key = MetadataName(original) + "." + member.Name;
        var allowedMember = symbol is not ITypeSymbol && ScriptRules.AllowedMembers.Contains(key);
        if (!allowedMember && !(symbol is ITypeSymbol && qualifiesMember) && ScriptRules.DeniedTypes.TryGetValue(MetadataName(original), out var why))
        {
            return $"'{name}' is not allowed: {why}";
        }

        if (symbol is not ITypeSymbol)
        {
            if (ScriptRules.DeniedMembers.TryGetValue(key, out var memberWhy))
            {
                return $"'{name}.{member.Name}' is not allowed: {memberWhy}";
            }

            if (MetadataName(original) == "System.Type" && ScriptRules.IsTypeReflection(member.Name))
            {
                return $"'Type.{member.Name}' is not allowed: reflection bypasses these checks";
            }

            if (member is IMethodSymbol method && ScriptRules.PathTakingNamespaces.Contains(ns) && MetadataName(original) != "System.IO.Path"
                && method.Parameters.FirstOrDefault() is { Type.SpecialType: SpecialType.System_String } first
                && ScriptRules.PathParameterNames.Contains(first.Name))
            {
                var what = method.MethodKind == MethodKind.Constructor ? $"new {name}(string {first.Name})" : $"{name}.{method.Name}(string {first.Name})";
                return $"'{what}' is not allowed: it opens a file or URL; requests go out only through Context.SendAsync";
            }
        }

        return null;
    }

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);

    private static string MetadataName(ITypeSymbol type) =>
        type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." + type.MetadataName : type.MetadataName;
}

/// <summary>Why a script was refused, and where (1-based line and column of script.csx).</summary>
internal sealed record ScriptViolation(int Line, int Column, string Reason);
