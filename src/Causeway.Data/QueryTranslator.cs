using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.OData;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;

namespace Causeway.Data;

/// <summary>
/// Turns ODL semantic trees into one SQL statement. Not thread-safe: one instance per request.
/// Identifiers come only from <see cref="EdmMapping"/> (never from the request) and every value becomes a parameter.
/// </summary>
internal sealed class QueryTranslator(EdmMapping map, SqlDialect dialect, QueryLimits limits, bool keyAlwaysSelected = false)
{
    private static readonly HashSet<string> SupportedOptions = new(StringComparer.Ordinal)
    {
        "$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$skiptoken", "$format",
    };

    private readonly List<QueryParameter> _parameters = [];
    private int _aliases;

    public QueryPlan Translate(string entitySet, string? key, IDictionary<string, string> queryOptions)
    {
        if (!map.TryGetEntitySet(entitySet, out var table, out var set, out var type))
        {
            throw new DataRequestException(404, DataErrorCodes.NotFound, $"Resource not found for the segment '{entitySet}'.");
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in queryOptions)
        {
            if (!name.StartsWith('$'))
            {
                continue;
            }

            if (!SupportedOptions.Contains(name))
            {
                throw DataRequestException.BadRequest($"The query option '{name}' is not supported.");
            }

            if (value.Length > limits.MaxQueryOptionLength)
            {
                throw DataRequestException.BadRequest($"The query option '{name}' is longer than {limits.MaxQueryOptionLength} characters.");
            }

            if (name is "$filter" or "$expand" or "$orderby" or "$select")
            {
                CheckNesting(name, value);
            }

            options[name] = value;
        }

        if (options.ContainsKey("$skip") && !limits.AllowSkip)
        {
            throw DataRequestException.BadRequest("The query parameter $skip is not supported.");
        }

        try
        {
            RuntimeHelpers.EnsureSufficientExecutionStack();
            return Build(entitySet, key, table, set, type, options);
        }
        catch (ODataException ex)
        {
            // ODL's messages name the offending property, type or token and contain nothing from the database.
            throw DataRequestException.BadRequest(ex.Message, ex);
        }
        catch (InsufficientExecutionStackException ex)
        {
            throw DataRequestException.BadRequest("The query is nested too deeply.", ex);
        }
    }

    private QueryPlan Build(string entitySet, string? key, TableSchema table, IEdmEntitySet set, IEdmEntityType type, Dictionary<string, string> options)
    {
        var parser = new ODataQueryOptionParser(map.Model, type, set, options);
        parser.Settings.MaximumExpansionDepth = limits.MaxExpansionDepth;
        parser.Settings.MaximumExpansionCount = limits.MaxExpansionCount;
        var filter = parser.ParseFilter();
        var orderBy = parser.ParseOrderBy();
        var selectExpand = parser.ParseSelectAndExpand();
        var top = parser.ParseTop();
        var skip = parser.ParseSkip();
        var count = parser.ParseCount() == true;
        options.TryGetValue("$skiptoken", out var skipToken);
        if (top < 0 || skip < 0)
        {
            throw DataRequestException.BadRequest("$top and $skip must not be negative.");
        }

        var alias = NextAlias();
        var scope = new Scope(null, "$it", alias, table);
        var items = new List<string>();
        var entity = BuildEntity(table, alias, selectExpand, items, 1);

        var where = new List<string>();
        var keySlots = new List<KeySlot>();
        if (key is not null)
        {
            foreach (var (column, value) in ParseKey(entitySet, table, key))
            {
                keySlots.Add(new KeySlot(_parameters.Count, column));
                where.Add($"{alias}.{dialect.Quote(column.Name)} = {Parameter(Values.ToCanonical(value, column.Type), column.Type)}");
            }
        }

        if (filter is not null)
        {
            where.Add(Predicate(Node(filter.Expression, scope.With(filter.RangeVariable.Name, alias, table), null, 1)));
        }

        var from = $" FROM {dialect.QualifiedTable(table)} {alias}";
        var context = ContextFragment(entitySet, selectExpand, key is not null);
        if (key is not null)
        {
            var single = new StringBuilder("SELECT ").AppendJoin(", ", items).Append(from);
            AppendWhere(single, where);
            return new QueryPlan(single.ToString(), _parameters, new PlanShape(entity)
            {
                EntitySetName = entitySet,
                ContextFragment = context,
                IsSingleEntity = true,
                PageSize = 1,
                KeySlots = keySlots,
            });
        }

        // ORDER BY: requested items, then the key so that pages are stable and the skip token is exact.
        var order = new List<OrderItem>();
        for (var clause = orderBy; clause is not null; clause = clause.ThenBy)
        {
            var value = Node(clause.Expression, scope.With(clause.RangeVariable.Name, alias, table), null, 1);
            if (value.IsPredicate)
            {
                throw DataRequestException.BadRequest("$orderby expressions must be values, not conditions.");
            }

            var ordinal = items.Count;
            var name = "o" + order.Count.ToString(CultureInfo.InvariantCulture);
            items.Add($"{value.Text} AS {name}");
            order.Add(new OrderItem(value.Text, name, ordinal, clause.Direction == OrderByDirection.Descending, value.Type, value.Nullable));
        }

        foreach (var k in table.Key)
        {
            var field = entity.Fields.First(f => f.Column.Name == k);
            order.Add(new OrderItem($"{alias}.{dialect.Quote(k)}", "c" + field.Ordinal.ToString(CultureInfo.InvariantCulture), field.Ordinal, false, field.Column.Type, false));
        }

        var slots = order.Select(o => new OrderSlot(o.Ordinal, o.Type)).ToList();
        var fingerprint = SkipToken.Fingerprint(entitySet, Get(options, "$filter"), Get(options, "$orderby"));
        int? countOrdinal = null;
        if (count)
        {
            countOrdinal = items.Count;
            items.Add("COUNT(*) OVER () AS cnt");
        }

        var pageSize = Math.Clamp(limits.PageSize, 1, limits.MaxPageSize);
        string? limit;
        int writeCount;
        var mayHaveNext = true;
        if (top is { } t && t <= pageSize)
        {
            // $top=0 with $count still needs one row to carry the window count.
            limit = Parameter(t == 0 && count ? 1 : t, DataType.Int64);
            writeCount = (int)t;
            mayHaveNext = false;
        }
        else
        {
            limit = Parameter((long)pageSize + 1, DataType.Int64);
            writeCount = pageSize;
        }

        // The window count must see every row of the filter, so with a skip token the keyset condition goes outside it.
        var wrap = count && skipToken is not null;
        var sql = new StringBuilder("SELECT ");
        if (wrap)
        {
            sql.Append("* FROM (SELECT ");
        }

        sql.AppendJoin(", ", items).Append(from);
        if (wrap)
        {
            AppendWhere(sql, where);
            sql.Append(") q");
            where.Clear();
        }

        if (skipToken is not null)
        {
            var values = SkipToken.Decode(skipToken, fingerprint, slots);
            where.Add(Keyset(order, values, wrap));
        }

        AppendWhere(sql, where);
        sql.Append(" ORDER BY ").Append(OrderBy(order, wrap));
        dialect.AppendPaging(sql, limit, skip is { } s ? Parameter(s, DataType.Int64) : null);

        var next = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in options)
        {
            if (name is "$skiptoken" or "$skip" or "$top")
            {
                continue;
            }

            next.Add(new(name, value));
        }

        if (top is { } remaining && remaining > pageSize)
        {
            next.Add(new("$top", (remaining - pageSize).ToString(CultureInfo.InvariantCulture)));
        }

        return new QueryPlan(sql.ToString(), _parameters, new PlanShape(entity)
        {
            EntitySetName = entitySet,
            ContextFragment = context,
            CountOrdinal = countOrdinal,
            PageSize = writeCount,
            MayHaveNextPage = mayHaveNext,
            TokenSlots = slots,
            TokenFingerprint = fingerprint,
            NextLinkOptions = next,
        });
    }

    private static string? Get(Dictionary<string, string> options, string name) => options.TryGetValue(name, out var v) ? v : null;

    private static void AppendWhere(StringBuilder sql, List<string> where)
    {
        if (where.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        }
    }

    private string OrderBy(List<OrderItem> order, bool byAlias)
    {
        var text = new StringBuilder();
        foreach (var o in order)
        {
            if (text.Length > 0)
            {
                text.Append(", ");
            }

            text.Append(dialect.OrderTerm(byAlias ? "q." + o.Alias : o.Expression, o.Descending, o.Nullable));
        }

        return text.ToString();
    }

    /// <summary>Rows strictly after the token's row in the ORDER BY above (nulls first ascending, last descending).</summary>
    private string Keyset(List<OrderItem> order, object?[] values, bool byAlias)
    {
        string? condition = null;
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var o = order[i];
            var e = byAlias ? "q." + o.Alias : o.Expression;
            var v = values[i];
            var p = v is null ? null : Parameter(v, o.Type);
            string? after = (o.Descending, p) switch
            {
                (false, null) => $"{e} IS NOT NULL",
                (false, _) => $"{e} > {p}",
                (true, null) => null,
                (true, _) => o.Nullable ? $"({e} < {p} OR {e} IS NULL)" : $"{e} < {p}",
            };
            var equal = p is null ? $"{e} IS NULL" : $"{e} = {p}";
            condition = condition is null
                ? after ?? "1 = 0"
                : after is null ? $"({equal} AND {condition})" : $"({after} OR ({equal} AND {condition}))";
        }

        return condition ?? "1 = 1";
    }

    /// <summary>Adds the select items of one entity (its columns and expanded navigations) and returns their shape.</summary>
    private EntityShape BuildEntity(TableSchema table, string alias, SelectExpandClause? clause, List<string> items, int depth)
    {
        var shape = new EntityShape(table);
        HashSet<string>? chosen = null;
        if (clause is not null && !clause.AllSelected)
        {
            chosen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in clause.SelectedItems)
            {
                if (item is PathSelectItem path && path.SelectedPath.LastSegment is PropertySegment property)
                {
                    chosen.Add(property.Property.Name);
                }
                else if (item is WildcardSelectItem)
                {
                    chosen = null;
                    break;
                }
            }
        }

        foreach (var column in table.Columns)
        {
            var isKey = table.Key.Contains(column.Name, StringComparer.Ordinal);
            var visible = chosen is null || chosen.Contains(column.Name) || (isKey && keyAlwaysSelected);
            var needed = isKey || column.Name == table.VersionColumn;
            if (!visible && !needed)
            {
                continue;
            }

            var ordinal = items.Count;
            items.Add($"{alias}.{dialect.Quote(column.Name)} AS c{ordinal.ToString(CultureInfo.InvariantCulture)}");
            shape.Fields.Add(new FieldSlot(ordinal, column, visible));
            if (column.Name == table.VersionColumn)
            {
                shape.VersionOrdinal = ordinal;
            }
        }

        foreach (var item in clause?.SelectedItems ?? [])
        {
            if (item is ExpandedReferenceSelectItem and not ExpandedNavigationSelectItem)
            {
                throw DataRequestException.BadRequest("$expand with $ref is not supported.");
            }

            if (item is not ExpandedNavigationSelectItem expand)
            {
                continue;
            }

            if (expand.LevelsOption is not null || expand.SearchOption is not null || expand.ComputeOption is not null || expand.ApplyOption is not null || expand.CountOption is not null)
            {
                throw DataRequestException.BadRequest("Only $select, $filter, $orderby, $top, $skip and $expand are supported inside $expand.");
            }

            var property = ((NavigationPropertySegment)expand.PathToNavigationProperty.LastSegment).NavigationProperty;
            var navigation = map.NavigationOf(property);
            var ordinal = items.Count;
            var (sql, nested) = ExpandSubquery(navigation, alias, expand, depth);
            items.Add($"{sql} AS c{ordinal.ToString(CultureInfo.InvariantCulture)}");
            shape.Expands.Add(new ExpandSlot(ordinal, property.Name, navigation.IsCollection, nested));
        }

        shape.ColumnCount = items.Count;
        return shape;
    }

    private (string Sql, EntityShape Shape) ExpandSubquery(Navigation navigation, string parentAlias, ExpandedNavigationSelectItem expand, int depth)
    {
        var target = navigation.Target;
        var alias = NextAlias();
        var items = new List<string>();
        var shape = BuildEntity(target, alias, expand.SelectAndExpand, items, depth + 1);
        var aliases = Enumerable.Range(0, items.Count).Select(i => "c" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var isJson = Enumerable.Range(0, items.Count).Select(i => shape.Expands.Any(e => e.Ordinal == i)).ToList();
        var where = new List<string> { $"{alias}.{dialect.Quote(navigation.TargetColumn)} = {parentAlias}.{dialect.Quote(navigation.SourceColumn)}" };
        var from = $" FROM {dialect.QualifiedTable(target)} {alias}";
        if (!navigation.IsCollection)
        {
            if (expand.FilterOption is not null || expand.OrderByOption is not null || expand.TopOption is not null || expand.SkipOption is not null)
            {
                throw DataRequestException.BadRequest($"Only $select and $expand apply to the single-valued navigation property '{navigation.Relationship.NavigationName}'.");
            }

            var single = new StringBuilder("SELECT ").AppendJoin(", ", items).Append(from);
            AppendWhere(single, where);
            return (dialect.JsonSingleRow(single.ToString(), aliases, isJson), shape);
        }

        var scope = new Scope(null, "$it", alias, target);
        if (expand.FilterOption is { } filter)
        {
            where.Add(Predicate(Node(filter.Expression, scope.With(filter.RangeVariable.Name, alias, target), null, 1)));
        }

        var order = new List<string>();
        for (var clause = expand.OrderByOption; clause is not null; clause = clause.ThenBy)
        {
            var value = Node(clause.Expression, scope.With(clause.RangeVariable.Name, alias, target), null, 1);
            order.Add(dialect.OrderTerm(value.Text, clause.Direction == OrderByDirection.Descending, value.Nullable));
        }

        order.AddRange(target.Key.Select(k => $"{alias}.{dialect.Quote(k)} ASC"));
        var orderText = string.Join(", ", order);
        var inner = new StringBuilder("SELECT ").AppendJoin(", ", items).Append(", ROW_NUMBER() OVER (ORDER BY ").Append(orderText).Append(") AS rn").Append(from);
        AppendWhere(inner, where);
        if (expand.TopOption is not null || expand.SkipOption is not null)
        {
            if (expand.TopOption < 0 || expand.SkipOption < 0)
            {
                throw DataRequestException.BadRequest("$top and $skip must not be negative.");
            }

            inner.Append(" ORDER BY ").Append(orderText);
            dialect.AppendPaging(
                inner,
                expand.TopOption is { } t ? Parameter(t, DataType.Int64) : null,
                expand.SkipOption is { } s ? Parameter(s, DataType.Int64) : null);
        }

        return (dialect.JsonArrayOfRows(inner.ToString(), aliases, isJson, "rn"), shape);
    }

    private string ContextFragment(string entitySet, SelectExpandClause? clause, bool single)
    {
        var parts = new List<string>();
        if (clause is not null)
        {
            foreach (var item in clause.SelectedItems)
            {
                if (!clause.AllSelected && item is PathSelectItem { SelectedPath.LastSegment: PropertySegment p })
                {
                    parts.Add(p.Property.Name);
                }
                else if (item is ExpandedNavigationSelectItem e)
                {
                    parts.Add(((NavigationPropertySegment)e.PathToNavigationProperty.LastSegment).NavigationProperty.Name + "()");
                }
            }
        }

        var text = parts.Count == 0 ? entitySet : $"{entitySet}({string.Join(",", parts)})";
        return single ? text + "/$entity" : text;
    }

    private List<(ColumnSchema Column, object Value)> ParseKey(string entitySet, TableSchema table, string key)
    {
        // The common case, one key column given by value (a GUID, a number, a quoted string): ODL's literal parser for the
        // column's type, about a tenth of the cost of parsing a whole path. Anything else, or anything that parser does not
        // turn into exactly the column's type, goes through the path parser, which also words the errors.
        if (table.Key.Count == 1 && !key.Contains('=', StringComparison.Ordinal) && map.TryGetEntitySet(entitySet, out _, out _, out var type)
            && type.FindProperty(table.Key[0]) is IEdmStructuralProperty property)
        {
            var column = table.FindColumn(table.Key[0])!;
            object? literal;
            try
            {
                literal = ODataUriUtils.ConvertFromUriLiteral(key, ODataVersion.V4, map.Model, property.Type);
            }
            catch (ODataException)
            {
                literal = null;
            }

            if (literal is not null && IsExactly(literal, column.Type))
            {
                return [(column, literal)];
            }
        }

        var path = new ODataUriParser(map.Model, new Uri($"{Uri.EscapeDataString(entitySet)}({Uri.EscapeDataString(key)})", UriKind.Relative)).ParsePath();
        if (path.LastSegment is not KeySegment segment)
        {
            throw DataRequestException.BadRequest($"'{key}' is not a key of '{entitySet}'.");
        }

        return segment.Keys.Select(k => (table.FindColumn(k.Key)!, k.Value)).ToList();
    }

    private static bool IsExactly(object value, DataType type) => (value, type) switch
    {
        (Guid, DataType.Guid) => true,
        (string, DataType.String) => true,
        (int, DataType.Int32 or DataType.Int64) => true,
        (long, DataType.Int64) => true,
        _ => false,
    };

    internal static List<(ColumnSchema Column, object Value)> ParseKey(EdmMapping map, string entitySet, TableSchema table, string key)
    {
        try
        {
            return new QueryTranslator(map, SqlDialect.Sqlite, new QueryLimits()).ParseKey(entitySet, table, key);
        }
        catch (ODataException ex)
        {
            throw DataRequestException.BadRequest(ex.Message, ex);
        }
    }

    private void CheckNesting(string option, string value)
    {
        var depth = 0;
        var inString = false;
        foreach (var c in value)
        {
            if (c == '\'')
            {
                inString = !inString;
            }
            else if (!inString && c == '(')
            {
                if (++depth > limits.MaxFilterDepth)
                {
                    throw DataRequestException.BadRequest($"The {option} expression is nested more than {limits.MaxFilterDepth} levels deep.");
                }
            }
            else if (!inString && c == ')')
            {
                depth--;
            }
        }
    }

    private string NextAlias() => "t" + (_aliases++).ToString(CultureInfo.InvariantCulture);

    private string Parameter(object? canonical, DataType type)
    {
        var name = dialect.ParameterName(_parameters.Count);
        _parameters.Add(new QueryParameter(name, dialect.ToProviderValue(canonical, type)));
        return name;
    }

    private string Predicate(Sql sql) => sql.IsPredicate
        ? sql.Text
        : sql.Type == DataType.Boolean
            ? $"({sql.Text} = {dialect.TrueLiteral})"
            : throw DataRequestException.BadRequest("The $filter expression must evaluate to a boolean.");

    private Sql Node(QueryNode node, Scope scope, DataType? hint, int depth)
    {
        if (depth > limits.MaxFilterDepth)
        {
            throw DataRequestException.BadRequest($"The $filter expression is nested more than {limits.MaxFilterDepth} levels deep.");
        }

        RuntimeHelpers.EnsureSufficientExecutionStack();
        return node switch
        {
            ConstantNode c => Constant(c.Value, hint ?? EdmMapping.TypeOf(c.TypeReference)),
            ConvertNode c when c.Source is ConstantNode k => Constant(k.Value, hint ?? EdmMapping.TypeOf(c.TypeReference)),
            ConvertNode c => Node(c.Source, scope, hint, depth + 1),
            BinaryOperatorNode b => Binary(b, scope, depth),
            UnaryOperatorNode { OperatorKind: UnaryOperatorKind.Not } u => new Sql($"(NOT {Predicate(Node(u.Operand, scope, null, depth + 1))})", DataType.Boolean, false, true),
            UnaryOperatorNode u => Arithmetic(Node(u.Operand, scope, null, depth + 1), x => $"(-{x.Text})"),
            SingleValuePropertyAccessNode p => Column(p.Property.Name, p.Source as SingleResourceNode, scope, depth),
            SingleValueFunctionCallNode f => Function(f, scope, depth),
            AnyNode a => Lambda(a.Source, a.CurrentRangeVariable.Name, a.Body, scope, depth, all: false),
            AllNode a => Lambda(a.Source, a.CurrentRangeVariable.Name, a.Body, scope, depth, all: true),
            InNode i => In(i, scope, depth),
            CountNode { Source: CollectionNavigationNode n } => Related(n, scope, depth, (target, alias, correlation) =>
                new Sql($"(SELECT COUNT(*) FROM {target} {alias} WHERE {correlation})", DataType.Int64, false, false)),
            _ => throw DataRequestException.BadRequest($"The query construct '{node.Kind}' is not supported."),
        };
    }

    private static Sql Arithmetic(Sql operand, Func<Sql, string> text) => operand with { Text = text(operand), IsPredicate = false };

    private Sql Constant(object? value, DataType type)
    {
        var canonical = Values.ToCanonical(value, type);
        var actual = canonical is null ? type : Values.TypeOfValue(canonical);
        return new Sql(Parameter(canonical, actual), actual, canonical is null, false);
    }

    private Sql Column(string name, SingleResourceNode? source, Scope scope, int depth)
    {
        switch (source)
        {
            case ResourceRangeVariableReferenceNode variable:
                var (alias, table) = scope.Find(variable.Name);
                var column = table.FindColumn(name) ?? throw DataRequestException.BadRequest($"Could not find a property named '{name}' on type '{table.Name}'.");
                return new Sql($"{alias}.{dialect.Quote(column.Name)}", column.Type, column.Nullable, false);
            case SingleNavigationNode navigationNode:
                // A value across a many-to-one hop is a correlated scalar subquery: NULL when there is no related row.
                var navigation = map.NavigationOf(navigationNode.NavigationProperty);
                var parent = Column(navigation.SourceColumn, navigationNode.Source as SingleResourceNode, scope, depth + 1);
                var target = navigation.Target;
                var inner = NextAlias();
                var targetColumn = target.FindColumn(name)!;
                return new Sql(
                    $"(SELECT {inner}.{dialect.Quote(name)} FROM {dialect.QualifiedTable(target)} {inner} WHERE {inner}.{dialect.Quote(navigation.TargetColumn)} = {parent.Text})",
                    targetColumn.Type,
                    true,
                    false);
            default:
                throw DataRequestException.BadRequest($"The property '{name}' cannot be used here.");
        }
    }

    private Sql Related(CollectionNavigationNode node, Scope scope, int depth, Func<string, string, string, Sql> build)
    {
        var navigation = map.NavigationOf(node.NavigationProperty);
        var parent = Column(navigation.SourceColumn, node.Source as SingleResourceNode, scope, depth + 1);
        var alias = NextAlias();
        return build(dialect.QualifiedTable(navigation.Target), alias, $"{alias}.{dialect.Quote(navigation.TargetColumn)} = {parent.Text}");
    }

    private Sql Lambda(CollectionNode source, string variable, SingleValueNode body, Scope scope, int depth, bool all)
    {
        if (source is not CollectionNavigationNode navigationNode)
        {
            throw DataRequestException.BadRequest("any/all are supported over collection-valued navigation properties only.");
        }

        return Related(navigationNode, scope, depth, (target, alias, correlation) =>
        {
            var inner = scope.With(variable, alias, map.NavigationOf(navigationNode.NavigationProperty).Target);
            if (body is ConstantNode { Value: true })
            {
                return new Sql(all ? "(1 = 1)" : $"EXISTS (SELECT 1 FROM {target} {alias} WHERE {correlation})", DataType.Boolean, false, true);
            }

            var condition = Predicate(Node(body, inner, null, depth + 1));

            // all: no related row for which the condition is not true (unknown counts as not true).
            return all
                ? new Sql($"NOT EXISTS (SELECT 1 FROM {target} {alias} WHERE {correlation} AND (CASE WHEN {condition} THEN 0 ELSE 1 END) = 1)", DataType.Boolean, false, true)
                : new Sql($"EXISTS (SELECT 1 FROM {target} {alias} WHERE {correlation} AND {condition})", DataType.Boolean, false, true);
        });
    }

    private Sql In(InNode node, Scope scope, int depth)
    {
        var left = Node(node.Left, scope, null, depth + 1);
        if (node.Right is not CollectionConstantNode list)
        {
            throw DataRequestException.BadRequest("The right side of 'in' must be a list of literals.");
        }

        if (list.Collection.Count > limits.MaxInListCount)
        {
            throw DataRequestException.BadRequest($"An 'in' list may hold at most {limits.MaxInListCount} values.");
        }

        if (list.Collection.Count == 0)
        {
            return new Sql("(1 = 0)", DataType.Boolean, false, true);
        }

        var values = list.Collection.Select(c => Constant(c.Value, left.Type).Text);
        return new Sql($"({left.Text} IN ({string.Join(", ", values)}))", DataType.Boolean, false, true);
    }

    private static bool IsNullConstant(QueryNode node) => node switch
    {
        ConstantNode { Value: null } => true,
        ConvertNode c => IsNullConstant(c.Source),
        _ => false,
    };

    private static bool IsConstant(QueryNode node) => node is ConstantNode || (node is ConvertNode c && IsConstant(c.Source));

    private Sql Binary(BinaryOperatorNode node, Scope scope, int depth)
    {
        var kind = node.OperatorKind;
        if (kind is BinaryOperatorKind.And or BinaryOperatorKind.Or)
        {
            var l = Predicate(Node(node.Left, scope, null, depth + 1));
            var r = Predicate(Node(node.Right, scope, null, depth + 1));
            return new Sql($"({l} {(kind == BinaryOperatorKind.And ? "AND" : "OR")} {r})", DataType.Boolean, false, true);
        }

        if (kind == BinaryOperatorKind.Has)
        {
            throw DataRequestException.BadRequest("The 'has' operator is not supported.");
        }

        var comparison = kind is BinaryOperatorKind.Equal or BinaryOperatorKind.NotEqual or BinaryOperatorKind.GreaterThan
            or BinaryOperatorKind.GreaterThanOrEqual or BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual;
        if (comparison && (IsNullConstant(node.Left) || IsNullConstant(node.Right)))
        {
            if (IsNullConstant(node.Left) && IsNullConstant(node.Right))
            {
                return new Sql(kind == BinaryOperatorKind.Equal ? "(1 = 1)" : "(1 = 0)", DataType.Boolean, false, true);
            }

            var other = Node(IsNullConstant(node.Left) ? node.Right : node.Left, scope, null, depth + 1);
            var text = kind switch
            {
                BinaryOperatorKind.Equal => $"({other.Text} IS NULL)",
                BinaryOperatorKind.NotEqual => $"({other.Text} IS NOT NULL)",
                _ => "(1 = 0)",
            };
            return new Sql(text, DataType.Boolean, false, true);
        }

        // Translate the non-literal side first so the literal is bound as the column's type.
        Sql left, right;
        if (IsConstant(node.Left) && !IsConstant(node.Right))
        {
            right = Node(node.Right, scope, null, depth + 1);
            left = Node(node.Left, scope, right.Type, depth + 1);
        }
        else
        {
            left = Node(node.Left, scope, null, depth + 1);
            right = Node(node.Right, scope, IsConstant(node.Right) ? left.Type : null, depth + 1);
        }

        if (comparison && (left.IsPredicate || right.IsPredicate))
        {
            if (kind is not (BinaryOperatorKind.Equal or BinaryOperatorKind.NotEqual))
            {
                throw DataRequestException.BadRequest("Conditions can only be compared with eq or ne.");
            }

            var l = Predicate(left);
            var r = Predicate(right);
            var same = $"(({l} AND {r}) OR (NOT {l} AND NOT {r}))";
            return new Sql(kind == BinaryOperatorKind.Equal ? same : $"(NOT {same})", DataType.Boolean, false, true);
        }

        if (comparison)
        {
            var op = kind switch
            {
                BinaryOperatorKind.Equal => "=",
                BinaryOperatorKind.NotEqual => "<>",
                BinaryOperatorKind.GreaterThan => ">",
                BinaryOperatorKind.GreaterThanOrEqual => ">=",
                BinaryOperatorKind.LessThan => "<",
                _ => "<=",
            };
            string text;
            if (kind == BinaryOperatorKind.Equal && left.Nullable && right.Nullable)
            {
                text = $"({left.Text} = {right.Text} OR ({left.Text} IS NULL AND {right.Text} IS NULL))";
            }
            else if (kind == BinaryOperatorKind.NotEqual && (left.Nullable || right.Nullable))
            {
                // OData: null ne 'x' is true, SQL says unknown.
                text = $"((CASE WHEN {left.Text} = {right.Text} OR ({left.Text} IS NULL AND {right.Text} IS NULL) THEN 0 ELSE 1 END) = 1)";
            }
            else
            {
                text = $"({left.Text} {op} {right.Text})";
            }

            return new Sql(text, DataType.Boolean, false, true);
        }

        var arithmetic = kind switch
        {
            BinaryOperatorKind.Add => "+",
            BinaryOperatorKind.Subtract => "-",
            BinaryOperatorKind.Multiply => "*",
            BinaryOperatorKind.Divide => "/",
            BinaryOperatorKind.Modulo => "%",
            _ => throw DataRequestException.BadRequest($"The operator '{kind}' is not supported."),
        };
        var type = EdmMapping.TypeOf(node.TypeReference);
        return new Sql($"({left.Text} {arithmetic} {right.Text})", type, left.Nullable || right.Nullable, false);
    }

    private Sql Function(SingleValueFunctionCallNode node, Scope scope, int depth)
    {
        var args = node.Parameters.ToList();
        Sql Arg(int i, DataType? hint = null) => i < args.Count
            ? Node(args[i], scope, hint, depth + 1)
            : throw DataRequestException.BadRequest($"The function '{node.Name}' needs more arguments.");
        Sql Value(string text, DataType type, params Sql[] from) => new(text, type, from.Any(a => a.Nullable), false);
        Sql Condition(string text) => new(text, DataType.Boolean, false, true);

        switch (node.Name)
        {
            case "contains":
                {
                    var (a, b) = (Arg(0, DataType.String), Arg(1, DataType.String));
                    return Condition(dialect.Contains(a.Text, b.Text));
                }

            case "startswith":
                {
                    var (a, b) = (Arg(0, DataType.String), Arg(1, DataType.String));
                    return Condition(dialect.StartsWith(a.Text, b.Text));
                }

            case "endswith":
                {
                    var (a, b) = (Arg(0, DataType.String), Arg(1, DataType.String));
                    return Condition(dialect.EndsWith(a.Text, b.Text));
                }

            case "tolower":
                {
                    var a = Arg(0, DataType.String);
                    return Value($"LOWER({a.Text})", DataType.String, a);
                }

            case "toupper":
                {
                    var a = Arg(0, DataType.String);
                    return Value($"UPPER({a.Text})", DataType.String, a);
                }

            case "trim":
                {
                    var a = Arg(0, DataType.String);
                    return Value(dialect.Trim(a.Text), DataType.String, a);
                }

            case "length":
                {
                    var a = Arg(0, DataType.String);
                    return Value(dialect.Length(a.Text), DataType.Int32, a);
                }

            case "indexof":
                {
                    var (a, b) = (Arg(0, DataType.String), Arg(1, DataType.String));
                    return Value(dialect.IndexOf(a.Text, b.Text), DataType.Int32, a, b);
                }

            case "substring":
                {
                    var a = Arg(0, DataType.String);
                    var start = Arg(1, DataType.Int32);
                    var length = args.Count > 2 ? Arg(2, DataType.Int32) : (Sql?)null;
                    return Value(dialect.Substring(a.Text, start.Text, length?.Text), DataType.String, a);
                }

            case "concat":
                {
                    var (a, b) = (Arg(0, DataType.String), Arg(1, DataType.String));
                    return Value(dialect.Concat(a.Text, b.Text), DataType.String, a, b);
                }

            case "year" or "month" or "day" or "hour" or "minute" or "second":
                {
                    var a = Arg(0);
                    return Value(dialect.DatePart(node.Name, a.Text), DataType.Int32, a);
                }

            case "date":
                {
                    var a = Arg(0);
                    return Value(dialect.DateOf(a.Text), DataType.Date, a);
                }

            case "round":
                {
                    var a = Arg(0);
                    return Value(dialect.Round(a.Text), a.Type, a);
                }

            case "floor":
                {
                    var a = Arg(0);
                    return Value(dialect.Floor(a.Text), a.Type, a);
                }

            case "ceiling":
                {
                    var a = Arg(0);
                    return Value(dialect.Ceiling(a.Text), a.Type, a);
                }

            default:
                throw DataRequestException.BadRequest($"The function '{node.Name}' is not supported.");
        }
    }

    private readonly record struct Sql(string Text, DataType Type, bool Nullable, bool IsPredicate);

    private sealed record OrderItem(string Expression, string Alias, int Ordinal, bool Descending, DataType Type, bool Nullable);

    /// <summary>Range variables in scope ($it, lambda variables) and the table alias each stands for.</summary>
    private sealed record Scope(Scope? Parent, string Name, string Alias, TableSchema Table)
    {
        public Scope With(string name, string alias, TableSchema table) => new(this, name, alias, table);

        public (string Alias, TableSchema Table) Find(string name)
        {
            for (var s = this; s is not null; s = s.Parent)
            {
                if (s.Name == name)
                {
                    return (s.Alias, s.Table);
                }
            }

            throw DataRequestException.BadRequest($"The range variable '{name}' is not in scope.");
        }
    }
}
