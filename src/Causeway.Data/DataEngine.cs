using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Xml;
using Microsoft.OData.Edm;
using Microsoft.OData.Edm.Csdl;
using Microsoft.OData.Edm.Validation;

namespace Causeway.Data;

/// <summary>
/// OData v4 over relational tables: the one entry point the Data API and the gateway agent call.
/// </summary>
/// <remarks>
/// Design: the EDM model is built once per <see cref="DataSchema"/> (Microsoft.OData.Edm) and kept here; each request
/// is parsed by ODL's <c>ODataQueryOptionParser</c> into semantic trees, which <c>QueryTranslator</c> turns into ONE
/// parameterized statement: identifiers come only from the schema and are quoted by the <see cref="SqlDialect"/>,
/// every literal is a parameter. Expanded navigation properties are correlated scalar subqueries that build JSON in
/// the database (json_group_array / json_agg / FOR JSON PATH), so a page with expansions is still one round trip and
/// one reader. Rows stream from the reader into a <see cref="Utf8JsonWriter"/>; nothing materializes the page.
/// Paging is keyset: ORDER BY always ends with the key, and the $skiptoken carries the last row's order values.
/// Plans for identical requests are cached (they are immutable), so repeated queries skip parsing; a by-key read's
/// plan serves every key (only the key is parsed). A plan enters the cache the second time its request is seen.
/// Thread-safe: one instance serves concurrent requests.
/// </remarks>
public sealed class DataEngine
{
    private const int PlanCacheCapacity = 2048;
    private readonly EdmMapping _map;
    private readonly ConcurrentDictionary<string, QueryPlan> _plans = new(StringComparer.Ordinal);
    private readonly int[] _seen = new int[4096];

    /// <summary>Builds the EDM model of <paramref name="schema"/>; throws <see cref="ArgumentException"/> if the schema is inconsistent.</summary>
    public DataEngine(DataSchema schema, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(dialect);
        _map = new EdmMapping(schema);
        Dialect = dialect;
    }

    /// <summary>
    /// Dataverse's rule: every row, expanded rows included, carries its key even when <c>$select</c> leaves it out
    /// (<c>@odata.context</c> still lists only what was selected). Off by default: plain OData returns what is selected.
    /// </summary>
    public bool KeyAlwaysSelected { get; init; }

    /// <summary>The schema served.</summary>
    public DataSchema Schema => _map.Schema;

    /// <summary>The SQL dialect emitted.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>The EDM model (for callers that need ODL themselves).</summary>
    public IEdmModel Model => _map.Model;

    /// <summary>The model and the way back to tables (for the translation profile in the benchmarks).</summary>
    internal EdmMapping Mapping => _map;

    /// <summary>
    /// Parses and translates a read: <c>GET {entitySet}</c> or, with <paramref name="key"/> (the text inside the
    /// parentheses, e.g. <c>5</c> or <c>'ALFKI'</c>), <c>GET {entitySet}({key})</c>.
    /// </summary>
    /// <param name="queryOptions">Query string options by name (<c>$filter</c>, ...), values already URL-decoded. Names without '$' are ignored.</param>
    /// <exception cref="DataRequestException">400 for a bad or unsupported query, 404 for an unknown entity set.</exception>
    public QueryPlan ParseQuery(string entitySet, string? key, IDictionary<string, string> queryOptions, QueryLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(entitySet);
        ArgumentNullException.ThrowIfNull(queryOptions);
        limits ??= Default;
        var cacheKey = CacheKey(entitySet, key is not null, queryOptions, limits);
        if (cacheKey is not null && _plans.TryGetValue(cacheKey, out var cached))
        {
            // One plan serves every key of the entity set: the key is parsed (by ODL, as on a miss) and its parameters replaced.
            return key is null ? cached : cached.WithKey(QueryTranslator.ParseKey(_map, entitySet, cached.Shape.Entity.Table, key), Dialect);
        }

        var plan = new QueryTranslator(_map, Dialect, limits, KeyAlwaysSelected).Translate(entitySet, key, queryOptions);
        if (cacheKey is not null && SeenBefore(cacheKey))
        {
            if (_plans.Count >= PlanCacheCapacity)
            {
                _plans.Clear();
            }

            _plans[cacheKey] = plan;
        }

        return plan;
    }

    /// <summary>
    /// Runs <paramref name="plan"/> on an open connection and streams the OData JSON response to <paramref name="output"/>.
    /// </summary>
    /// <param name="serviceRoot">Base of @odata.context and @odata.nextLink, e.g. <c>https://host/environments/x/api/data/v9.2/</c>.</param>
    /// <exception cref="DataRequestException">404 when a single entity is absent (nothing written yet); 500 with a generic
    /// message when the database fails — if that happens mid-stream the response is incomplete and must be aborted.</exception>
    public async Task ExecuteQueryAsync(DbConnection connection, QueryPlan plan, Stream output, Uri serviceRoot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(serviceRoot);
        try
        {
            await using var command = CreateCommand(connection, plan.Sql, plan.Parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await ResultWriter.WriteAsync(reader, plan.Shape, output, serviceRoot, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DbException or InvalidCastException or FormatException or JsonException or InvalidOperationException)
        {
            throw DatabaseFailure(ex);
        }
    }

    /// <summary>Translates a write. <paramref name="key"/> is required except for inserts; <paramref name="expectedVersion"/> is the If-Match version.</summary>
    /// <exception cref="DataRequestException">400 for an unknown/read-only property or a bad value, 404 for an unknown entity set.</exception>
    public WriteCommand BuildWrite(WriteKind kind, string entitySet, string? key, JsonElement? body, long? expectedVersion = null)
    {
        ArgumentNullException.ThrowIfNull(entitySet);
        return new WriteBuilder(_map, Dialect).Build(kind, entitySet, key, body, expectedVersion);
    }

    /// <summary>Creates a row from a JSON object (<c>Nav@odata.bind: "Set(key)"</c> sets a foreign key).</summary>
    public Task<WriteResult> InsertAsync(DbConnection connection, string entitySet, JsonElement body, CancellationToken cancellationToken = default) =>
        ExecuteWriteAsync(connection, BuildWrite(WriteKind.Insert, entitySet, null, body), cancellationToken);

    /// <summary>Changes the given properties of a row; 412 if <paramref name="expectedVersion"/> is given and differs.</summary>
    public Task<WriteResult> UpdateAsync(DbConnection connection, string entitySet, string key, JsonElement body, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
        ExecuteWriteAsync(connection, BuildWrite(WriteKind.Update, entitySet, key, body, expectedVersion), cancellationToken);

    /// <summary>Updates the row with that key, or creates it (the body must then hold every required property).</summary>
    public Task<WriteResult> UpsertAsync(DbConnection connection, string entitySet, string key, JsonElement body, CancellationToken cancellationToken = default) =>
        ExecuteWriteAsync(connection, BuildWrite(WriteKind.Upsert, entitySet, key, body), cancellationToken);

    /// <summary>Deletes a row; 404 if absent, 412 on version mismatch.</summary>
    public Task<WriteResult> DeleteAsync(DbConnection connection, string entitySet, string key, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
        ExecuteWriteAsync(connection, BuildWrite(WriteKind.Delete, entitySet, key, null, expectedVersion), cancellationToken);

    /// <summary>Runs a write built by <see cref="BuildWrite"/>.</summary>
    /// <exception cref="DataRequestException">404 no such row, 409 duplicate key, 412 version mismatch, 400 constraint violation, 500 other database failure.</exception>
    public async Task<WriteResult> ExecuteWriteAsync(DbConnection connection, WriteCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(command);
        var table = command.Table;
        try
        {
            var key = new Dictionary<string, object?>(StringComparer.Ordinal);
            long? version = null;
            var touched = 0;
            await using (var db = CreateCommand(connection, command.Sql, command.Parameters))
            {
                if (command.Returned.Count == 0)
                {
                    touched = await db.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await using var reader = await db.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        touched = 1;
                        for (var i = 0; i < command.Returned.Count; i++)
                        {
                            var column = command.Returned[i];
                            var value = Values.Read(reader, i, column.Type);
                            if (column.Name == table.VersionColumn)
                            {
                                version = value is null ? null : System.Convert.ToInt64(value, CultureInfo.InvariantCulture);
                            }
                            else
                            {
                                key[column.Name] = value;
                            }
                        }
                    }
                }
            }

            if (touched == 0 && command.ExistsSql is not null)
            {
                await using var exists = CreateCommand(connection, command.ExistsSql, command.KeyParameters);
                var found = await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not (null or DBNull);
                throw found
                    ? new DataRequestException(412, DataErrorCodes.ConcurrencyMismatch, "The version of the row does not match the If-Match header.")
                    : new DataRequestException(404, DataErrorCodes.NotFound, $"No {table.Name} with that key exists in '{table.EntitySetName}'.");
            }

            return new WriteResult(key, version, EntityId(table, key));
        }
        catch (DbException ex) when (IsConstraintViolation(ex))
        {
            if (await MissingReferenceAsync(connection, command, cancellationToken).ConfigureAwait(false) is { } missing)
            {
                throw new DataRequestException(404, DataErrorCodes.NotFound,
                    $"'{missing.Navigation}@odata.bind' references {missing.Target}, which does not exist; nothing was written to '{table.EntitySetName}'.", ex);
            }

            if (command.Kind == WriteKind.Insert)
            {
                throw new DataRequestException(409, DataErrorCodes.DuplicateRecord, $"The row could not be created in '{table.EntitySetName}': a row with that key exists or a required, unique or referenced value is wrong.", ex);
            }

            throw DataRequestException.BadRequest($"The change to '{table.EntitySetName}' violates a constraint (a required, unique or referenced value).", ex);
        }
        catch (Exception ex) when (ex is DbException or InvalidCastException or FormatException)
        {
            throw DatabaseFailure(ex);
        }
    }

    /// <summary>After a constraint violation: the first bound row that does not exist, or null (also when the database cannot say).</summary>
    private static async Task<BoundReference?> MissingReferenceAsync(DbConnection connection, WriteCommand command, CancellationToken cancellationToken)
    {
        foreach (var bound in command.Bound)
        {
            try
            {
                await using var exists = CreateCommand(connection, bound.ExistsSql, [bound.Key]);
                if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null or DBNull)
                {
                    return bound;
                }
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException)
            {
                // E.g. a PostgreSQL transaction the failed statement aborted: keep the general answer.
                return null;
            }
        }

        return null;
    }

    /// <summary>Writes the CSDL ($metadata) of the model as XML.</summary>
    public void WriteMetadata(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = new System.Text.UTF8Encoding(false), Indent = false, CloseOutput = false });
        if (!CsdlWriter.TryWriteCsdl(_map.Model, writer, CsdlTarget.OData, out IEnumerable<EdmError> errors))
        {
            throw new InvalidOperationException("The EDM model could not be written as CSDL: " + string.Join("; ", errors.Select(e => e.ErrorMessage)));
        }
    }

    /// <summary>Writes the JSON service document listing every entity set.</summary>
    public async Task WriteServiceDocumentAsync(Stream output, Uri serviceRoot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(serviceRoot);
        var root = serviceRoot.AbsoluteUri.EndsWith('/') ? serviceRoot.AbsoluteUri : serviceRoot.AbsoluteUri + "/";
        await using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString("@odata.context", root + "$metadata");
        writer.WriteStartArray("value");
        foreach (var table in _map.Schema.Tables)
        {
            writer.WriteStartObject();
            writer.WriteString("name", table.EntitySetName);
            writer.WriteString("kind", "EntitySet");
            writer.WriteString("url", table.EntitySetName);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <c>{"error":{"code":...,"message":...}}</c> for an exception from this engine.</summary>
    public static void WriteError(Utf8JsonWriter writer, DataRequestException error)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(error);
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("code", error.Code);
        writer.WriteString("message", error.Message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static readonly QueryLimits Default = new();

    private static DataRequestException DatabaseFailure(Exception ex) =>
        new(500, DataErrorCodes.DatabaseError, "The database could not complete the request.", ex);

    // SQLSTATE class 23 (PostgreSQL, SQL Server) or SQLite's SQLITE_CONSTRAINT (19), without referencing the providers.
    private static bool IsConstraintViolation(DbException ex) =>
        ex.SqlState?.StartsWith("23", StringComparison.Ordinal) == true
        || (ex.GetType().Name == "SqliteException" && ex.ErrorCode == 19)
        || (ex.GetType().GetProperty("SqliteErrorCode")?.GetValue(ex) is 19);

    private static DbCommand CreateCommand(DbConnection connection, string sql, IReadOnlyList<QueryParameter> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var p in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = p.Name;
            parameter.Value = p.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static string EntityId(TableSchema table, Dictionary<string, object?> key)
    {
        static string Literal(object? v) => v switch
        {
            null => "null",
            string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
            Guid g => g.ToString("D"),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? string.Empty,
        };

        return key.Count == 1 ? Literal(key.Values.First()) : string.Join(",", table.Key.Select(k => k + "=" + Literal(key.GetValueOrDefault(k))));
    }

    /// <summary>
    /// Admission to the plan cache: a plan is stored the second time its cache key is seen (within the memory of a small
    /// table of key hashes), so a stream of one-off queries does not fill the cache with plans that are never used again
    /// and are only garbage for the collector to promote. A hash collision only admits a plan early.
    /// </summary>
    private bool SeenBefore(string cacheKey)
    {
        var hash = StringComparer.Ordinal.GetHashCode(cacheKey) | 1;
        ref var slot = ref _seen[(uint)hash % (uint)_seen.Length];
        if (Volatile.Read(ref slot) == hash)
        {
            return true;
        }

        Volatile.Write(ref slot, hash);
        return false;
    }

    /// <summary>The plan-cache key: entity set, whether a key is addressed (not which), the limits and the options in name order; null when not cached.</summary>
    internal static string? CacheKey(string entitySet, bool byKey, IDictionary<string, string> options, QueryLimits limits)
    {
        // Only plain reads without a skip token repeat often enough to be worth caching.
        if (options.ContainsKey("$skiptoken"))
        {
            return null;
        }

        var text = new System.Text.StringBuilder(128).Append(entitySet).Append(byKey ? "\u0001k" : "\u0001")
            .Append('\u0001').Append(limits.PageSize).Append(',').Append(limits.MaxPageSize).Append(',').Append(limits.AllowSkip ? '1' : '0')
            .Append(',').Append(limits.MaxExpansionDepth).Append(',').Append(limits.MaxExpansionCount).Append(',').Append(limits.MaxFilterDepth)
            .Append(',').Append(limits.MaxQueryOptionLength).Append(',').Append(limits.MaxInListCount);
        if (options.Count == 1)
        {
            foreach (var (name, value) in options)
            {
                text.Append('\u0001').Append(name).Append('\u0002').Append(value);
            }

            return text.ToString();
        }

        var names = new string[options.Count];
        options.Keys.CopyTo(names, 0);
        Array.Sort(names, StringComparer.Ordinal);
        foreach (var name in names)
        {
            text.Append('\u0001').Append(name).Append('\u0002').Append(options[name]);
        }

        return text.ToString();
    }
}
