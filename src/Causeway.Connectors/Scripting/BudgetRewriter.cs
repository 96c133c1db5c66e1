using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// Rewrites a checked script so that it honours its time limit without the host having to stop a thread: a
/// <see cref="ScriptBudget.Check"/> call starts every loop body, labelled statement (backward gotos), method, accessor,
/// constructor, local function and lambda, and every catch clause gets a <see cref="ScriptBudget.CanCatch"/> filter so
/// the timeout cannot be swallowed. Works on the original tree with its semantic model (return types of lambdas).
/// </summary>
internal sealed class BudgetRewriter(SemanticModel model) : CSharpSyntaxRewriter
{
    private const string Budget = "global::Causeway.Connectors.Scripting.ScriptBudget";

    private static readonly StatementSyntax CheckStatement = ParseStatement($"{Budget}.Check();");
    private static readonly ExpressionSyntax CanCatchCall = ParseExpression($"{Budget}.CanCatch()");

    public override SyntaxNode? VisitWhileStatement(WhileStatementSyntax node) =>
        Loop((WhileStatementSyntax)base.VisitWhileStatement(node)!);

    public override SyntaxNode? VisitDoStatement(DoStatementSyntax node) =>
        Loop((DoStatementSyntax)base.VisitDoStatement(node)!);

    public override SyntaxNode? VisitForStatement(ForStatementSyntax node) =>
        Loop((ForStatementSyntax)base.VisitForStatement(node)!);

    public override SyntaxNode? VisitForEachStatement(ForEachStatementSyntax node) =>
        Loop((ForEachStatementSyntax)base.VisitForEachStatement(node)!);

    public override SyntaxNode? VisitForEachVariableStatement(ForEachVariableStatementSyntax node) =>
        Loop((ForEachVariableStatementSyntax)base.VisitForEachVariableStatement(node)!);

    public override SyntaxNode? VisitLabeledStatement(LabeledStatementSyntax node) =>
        Loop((LabeledStatementSyntax)base.VisitLabeledStatement(node)!);

    public override SyntaxNode? VisitCatchClause(CatchClauseSyntax node)
    {
        var visited = (CatchClauseSyntax)base.VisitCatchClause(node)!;
        var condition = visited.Filter is { } filter
            ? BinaryExpression(SyntaxKind.LogicalAndExpression, CanCatchCall, ParenthesizedExpression(filter.FilterExpression))
            : CanCatchCall;
        return visited.WithFilter(CatchFilterClause(condition));
    }

    public override SyntaxNode? VisitInvocationExpression(InvocationExpressionSyntax node)
    {
        var target = model.GetSymbolInfo(node).Symbol as IMethodSymbol;
        var visited = (InvocationExpressionSyntax)base.VisitInvocationExpression(node)!;

        // Thread.Sleep would hold a thread past the deadline: the budget's sleep ends there.
        return target is { Name: "Sleep", IsStatic: true, ContainingType: { Name: "Thread", ContainingNamespace: { Name: "Threading", ContainingNamespace.Name: "System" } } }
            ? visited.WithExpression(ParseExpression($"{Budget}.Sleep"))
            : visited;
    }

    public override SyntaxNode? VisitMethodDeclaration(MethodDeclarationSyntax node)
    {
        var method = model.GetDeclaredSymbol(node);
        var visited = (MethodDeclarationSyntax)base.VisitMethodDeclaration(node)!;
        if (method is { IsAsync: true, ReturnsVoid: true })
        {
            // An exception leaving an async void method ends the process; as a Task it is only unobserved.
            visited = visited.WithReturnType(ParseTypeName("global::System.Threading.Tasks.Task").WithTriviaFrom(visited.ReturnType));
            method = null;
        }

        return visited.Body is { } body
            ? visited.WithBody(Prefix(body))
            : visited.ExpressionBody is { } arrow
                ? visited.WithExpressionBody(null).WithSemicolonToken(default).WithBody(method is null ? Statement(arrow.Expression) : Block(arrow.Expression, method))
                : visited;
    }

    public override SyntaxNode? VisitLocalFunctionStatement(LocalFunctionStatementSyntax node)
    {
        var method = model.GetDeclaredSymbol(node) as IMethodSymbol;
        var visited = (LocalFunctionStatementSyntax)base.VisitLocalFunctionStatement(node)!;
        if (method is { IsAsync: true, ReturnsVoid: true })
        {
            visited = visited.WithReturnType(ParseTypeName("global::System.Threading.Tasks.Task").WithTriviaFrom(visited.ReturnType));
            method = null;
        }

        return visited.Body is { } body
            ? visited.WithBody(Prefix(body))
            : visited.ExpressionBody is { } arrow
                ? visited.WithExpressionBody(null).WithSemicolonToken(default).WithBody(method is null ? Statement(arrow.Expression) : Block(arrow.Expression, method))
                : visited;
    }

    public override SyntaxNode? VisitConstructorDeclaration(ConstructorDeclarationSyntax node)
    {
        var visited = (ConstructorDeclarationSyntax)base.VisitConstructorDeclaration(node)!;
        return visited.Body is { } body
            ? visited.WithBody(Prefix(body))
            : visited.ExpressionBody is { } arrow
                ? visited.WithExpressionBody(null).WithSemicolonToken(default).WithBody(Statement(arrow.Expression))
                : visited;
    }

    public override SyntaxNode? VisitAccessorDeclaration(AccessorDeclarationSyntax node)
    {
        var method = model.GetDeclaredSymbol(node);
        var visited = (AccessorDeclarationSyntax)base.VisitAccessorDeclaration(node)!;
        return visited.Body is { } body
            ? visited.WithBody(Prefix(body))
            : visited.ExpressionBody is { } arrow && method is not null
                ? visited.WithExpressionBody(null).WithSemicolonToken(default).WithBody(Block(arrow.Expression, method))
                : visited;
    }

    public override SyntaxNode? VisitPropertyDeclaration(PropertyDeclarationSyntax node)
    {
        var getter = model.GetDeclaredSymbol(node)?.GetMethod;
        var visited = (PropertyDeclarationSyntax)base.VisitPropertyDeclaration(node)!;
        if (visited.ExpressionBody is not { } arrow || getter is null)
        {
            return visited;
        }

        var accessor = AccessorDeclaration(SyntaxKind.GetAccessorDeclaration, Block(arrow.Expression, getter));
        return visited.WithExpressionBody(null).WithSemicolonToken(default).WithAccessorList(AccessorList(SingletonList(accessor)));
    }

    public override SyntaxNode? VisitParenthesizedLambdaExpression(ParenthesizedLambdaExpressionSyntax node)
    {
        var method = model.GetSymbolInfo(node).Symbol as IMethodSymbol;
        var visited = (ParenthesizedLambdaExpressionSyntax)base.VisitParenthesizedLambdaExpression(node)!;
        return Lambda(visited, method);
    }

    public override SyntaxNode? VisitSimpleLambdaExpression(SimpleLambdaExpressionSyntax node)
    {
        var method = model.GetSymbolInfo(node).Symbol as IMethodSymbol;
        var visited = (SimpleLambdaExpressionSyntax)base.VisitSimpleLambdaExpression(node)!;
        return Lambda(visited, method);
    }

    public override SyntaxNode? VisitAnonymousMethodExpression(AnonymousMethodExpressionSyntax node)
    {
        var visited = (AnonymousMethodExpressionSyntax)base.VisitAnonymousMethodExpression(node)!;
        return visited.WithBlock(Prefix(visited.Block));
    }

    private static LambdaExpressionSyntax Lambda(LambdaExpressionSyntax visited, IMethodSymbol? method)
    {
        if (visited.Block is { } block)
        {
            return visited.WithBlock(Prefix(block));
        }

        // Expression trees cannot hold statement bodies; lambdas that become them run nowhere here (System.Linq.Expressions is not allowed).
        return visited.ExpressionBody is { } expression && method is not null
            ? visited.WithExpressionBody(null).WithBlock(Block(expression, method))
            : visited;
    }

    private static BlockSyntax Block(ExpressionSyntax expression, IMethodSymbol method)
    {
        // A body that returns nothing (void, or an async Task / ValueTask) keeps the expression as a statement.
        var returnsNothing = method.ReturnsVoid
            || (method.IsAsync && method.ReturnType is INamedTypeSymbol { IsGenericType: false, Name: "Task" or "ValueTask" });
        StatementSyntax statement = expression is ThrowExpressionSyntax thrown
            ? ThrowStatement(thrown.Expression)
            : returnsNothing ? ExpressionStatement(expression) : ReturnStatement(expression);
        return SyntaxFactory.Block(CheckStatement, statement);
    }

    // A body that returns nothing: the check, then the expression as a statement.
    private static BlockSyntax Statement(ExpressionSyntax expression) =>
        SyntaxFactory.Block(CheckStatement, expression is ThrowExpressionSyntax thrown ? ThrowStatement(thrown.Expression) : ExpressionStatement(expression));

    private static BlockSyntax Prefix(BlockSyntax block) => block.WithStatements(block.Statements.Insert(0, CheckStatement));

    private static BlockSyntax Prefix(StatementSyntax statement) =>
        statement is BlockSyntax block ? Prefix(block) : SyntaxFactory.Block(CheckStatement, statement);

    private static StatementSyntax Loop(StatementSyntax visited) => visited switch
    {
        WhileStatementSyntax w => w.WithStatement(Prefix(w.Statement)),
        DoStatementSyntax d => d.WithStatement(Prefix(d.Statement)),
        ForStatementSyntax f => f.WithStatement(Prefix(f.Statement)),
        CommonForEachStatementSyntax e => e.WithStatement(Prefix(e.Statement)),
        LabeledStatementSyntax l => l.WithStatement(Prefix(l.Statement)),
        _ => visited,
    };
}
