using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Causeway.Flows;

/// <summary>The actions that do one thing and have no nested actions.</summary>
internal static class BasicActions
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(2);

    public static Task RunAsync(string type, ActionArguments a) => type switch
    {
        "program.run" => RunProgramAsync(a),
        "http.request" => HttpRequestAsync(a),
        "sqlite.query" => SqliteQueryAsync(a),
        "csv.read" => CsvReadAsync(a),
        "csv.write" => CsvWriteAsync(a),
        "file.read" => FileReadAsync(a),
        "file.write" => FileWriteAsync(a),
        _ => Task.Run(() => Run(type, a), a.Context.Token),
    };

    private static void Run(string type, ActionArguments a)
    {
        switch (type)
        {
            case "file.copy":
                var (source, destination) = (Existing(a, "source", file: true), a.Path("destination"));
                File.Copy(source, destination, a.Boolean("overwrite", false));
                break;
            case "file.move":
                (source, destination) = (Existing(a, "source", file: true), a.Path("destination"));
                File.Move(source, destination, a.Boolean("overwrite", false));
                break;
            case "file.delete":
                File.Delete(Existing(a, "path", file: true));
                break;
            case "folder.create":
                Directory.CreateDirectory(a.Path("path"));
                break;
            case "folder.list":
                var folder = Existing(a, "path", file: false);
                var pattern = a.TextOrNull("pattern") ?? "*";
                a.SetResult(Directory.EnumerateFileSystemEntries(folder, pattern).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => (object?)n).ToList());
                break;
            case "folder.copy":
                (source, destination) = (Existing(a, "source", file: false), a.Path("destination"));
                if (Directory.Exists(destination) || File.Exists(destination))
                {
                    throw new FlowActionException($"'{a.Text("destination")}' already exists");
                }

                CopyFolder(source, destination, a.Context);
                break;
            case "folder.move":
                (source, destination) = (NotRoot(a, Existing(a, "source", file: false)), a.Path("destination"));
                Directory.Move(source, destination);
                break;
            case "folder.delete":
                Directory.Delete(NotRoot(a, Existing(a, "path", file: false)), a.Boolean("recursive", false));
                break;
            case "text.replace":
                a.SetResult(a.Text("text").Replace(a.Text("find"), a.Text("replacement"), a.Boolean("ignoreCase", false) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
                break;
            case "text.split":
                var options = a.Boolean("removeEmpty", false) ? StringSplitOptions.RemoveEmptyEntries : StringSplitOptions.None;
                a.SetResult(a.Text("text").Split(a.Text("separator"), options).Select(s => (object?)s).ToList());
                break;
            case "text.join":
                a.SetResult(string.Join(a.TextOrNull("separator") ?? "", a.TextList("items")!));
                break;
            case "text.trim":
                a.SetResult(a.Text("text").Trim());
                break;
            case "text.upper":
                a.SetResult(a.Text("text").ToUpperInvariant());
                break;
            case "text.lower":
                a.SetResult(a.Text("text").ToLowerInvariant());
                break;
            case "regex.match":
                var matches = Regex(a).Matches(a.Text("text")).ToList();
                a.SetResult(new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["success"] = matches.Count > 0,
                    ["value"] = matches.Count > 0 ? matches[0].Value : null,
                    ["groups"] = matches.Count > 0 ? matches[0].Groups.Values.Skip(1).Select(g => (object?)g.Value).ToList() : new List<object?>(),
                    ["matches"] = matches.Select(m => (object?)m.Value).ToList(),
                });
                break;
            case "regex.replace":
                a.SetResult(Regex(a).Replace(a.Text("text"), a.Text("replacement")));
                break;
            default:
                throw new FlowActionException($"unknown action type '{type}'");
        }
    }

    private static Regex Regex(ActionArguments a)
    {
        try
        {
            return new Regex(a.Text("pattern"), a.Boolean("ignoreCase", false) ? RegexOptions.IgnoreCase : RegexOptions.None, RegexTimeout);
        }
        catch (ArgumentException e)
        {
            throw new FlowActionException("not a valid regular expression: " + e.Message);
        }
    }

    private static string Existing(ActionArguments a, string name, bool file)
    {
        var path = a.Path(name);
        return (file ? File.Exists(path) : Directory.Exists(path))
            ? path
            : throw new FlowActionException($"the {(file ? "file" : "folder")} '{a.Text(name)}' does not exist");
    }

    private static string NotRoot(ActionArguments a, string path) =>
        a.Context.IsRoot(path) ? throw new FlowActionException("a root folder itself cannot be moved or deleted") : path;

    private static void CopyFolder(string source, string destination, RunContext context)
    {
        Directory.CreateDirectory(destination);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            context.Token.ThrowIfCancellationRequested();
            var target = Path.Combine(destination, entry.Name);
            if (entry.LinkTarget is not null)
            {
                throw new FlowActionException($"'{entry.Name}' is a link; folders with links are not copied");
            }

            if (entry is DirectoryInfo directory)
            {
                CopyFolder(directory.FullName, target, context);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }

    private static async Task FileReadAsync(ActionArguments a)
    {
        var path = Existing(a, "path", file: true);
        CheckSize(path, a.Context);
        a.SetResult(await File.ReadAllTextAsync(path, a.Context.Token));
    }

    private static async Task FileWriteAsync(ActionArguments a)
    {
        var path = a.Path("path");
        if (a.Boolean("append", false))
        {
            await File.AppendAllTextAsync(path, a.Text("content"), a.Context.Token);
        }
        else
        {
            await File.WriteAllTextAsync(path, a.Text("content"), a.Context.Token);
        }
    }

    private static void CheckSize(string path, RunContext context)
    {
        if (new FileInfo(path).Length > context.Options.MaxReadBytes)
        {
            throw new FlowActionException($"the file is larger than {context.Options.MaxReadBytes} bytes");
        }
    }

    private static async Task RunProgramAsync(ActionArguments a)
    {
        var context = a.Context;
        var start = new ProcessStartInfo(a.Text("program"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in a.TextList("arguments") ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        if (a.TextOrNull("workingDirectory") is not null)
        {
            start.WorkingDirectory = Existing(a, "workingDirectory", file: false);
        }

        var timeout = TimeSpan.FromSeconds(a.Number("timeoutSeconds", 60, 0.001, ActionCatalog.MaxProgramTimeoutSeconds));
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new FlowActionException($"the program '{start.FileName}' could not be started: {e.Message}");
        }

        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.Token);
        deadline.CancelAfter(timeout);
        var stdout = CaptureAsync(process.StandardOutput, context.Options.MaxCapturedOutputChars);
        var stderr = CaptureAsync(process.StandardError, context.Options.MaxCapturedOutputChars);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            context.Token.ThrowIfCancellationRequested();
            throw new FlowActionException($"the program did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s and was stopped");
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["exitCode"] = (double)process.ExitCode,
            ["stdout"] = await stdout,
            ["stderr"] = await stderr,
        };
        a.SetResult(result);
        if (process.ExitCode != 0 && a.Boolean("failOnNonZeroExit", true))
        {
            var firstLine = ((string)result["stderr"]!).Split('\n', 2)[0].Trim();
            throw new FlowActionException($"the program exited with code {process.ExitCode}{(firstLine.Length > 0 ? ": " + firstLine : "")}");
        }
    }

    private static async Task<string> CaptureAsync(StreamReader reader, int limit)
    {
        var builder = new StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            builder.Append(buffer, 0, Math.Min(read, Math.Max(0, limit - builder.Length)));
        }

        return builder.ToString();
    }

    private static async Task HttpRequestAsync(ActionArguments a)
    {
        var context = a.Context;
        var url = a.Text("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new FlowActionException($"'{url}' is not an absolute http or https URL");
        }

        using var request = new HttpRequestMessage(new HttpMethod((a.TextOrNull("method") ?? "GET").ToUpperInvariant()), uri);
        var headers = a.TextMap("headers");
        if (a.TextOrNull("body") is { } body)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = null;
        }

        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                if (request.Content is null)
                {
                    throw new FlowActionException($"the header '{name}' needs a body");
                }

                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var timeout = TimeSpan.FromSeconds(a.Number("timeoutSeconds", 100, 0.001, 3600));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.Token);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await context.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (response.Content.Headers.ContentLength > context.Options.MaxReadBytes)
            {
                throw new FlowActionException($"the response body is larger than {context.Options.MaxReadBytes} bytes");
            }

            var text = await ReadLimitedAsync(response.Content, context.Options.MaxReadBytes, deadline.Token);
            var responseHeaders = response.Headers.Concat(response.Content.Headers)
                .ToDictionary(h => h.Key.ToLowerInvariant(), h => (object?)string.Join(", ", h.Value), StringComparer.Ordinal);
            a.SetResult(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["status"] = (double)(int)response.StatusCode,
                ["headers"] = responseHeaders,
                ["body"] = text,
            });
            if ((int)response.StatusCode >= 400 && a.Boolean("failOnErrorStatus", true))
            {
                throw new FlowActionException($"{request.Method} {uri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }
        }
        catch (OperationCanceledException) when (!context.Token.IsCancellationRequested)
        {
            throw new FlowActionException($"no answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException e)
        {
            throw new FlowActionException($"{request.Method} {uri.GetLeftPart(UriPartial.Path)} failed: {e.Message}");
        }
    }

    private static async Task<string> ReadLimitedAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (memory.Length + read > limit)
            {
                throw new FlowActionException($"the response body is larger than {limit} bytes");
            }

            memory.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(memory.GetBuffer(), 0, (int)memory.Length);
    }

    private static async Task SqliteQueryAsync(ActionArguments a)
    {
        var context = a.Context;
        var builder = new SqliteConnectionStringBuilder { DataSource = a.Path("database"), Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(context.Token);
        await using var command = connection.CreateCommand();
        command.CommandText = a.Literal("sql");
        var parameters = a.Value("parameters");
        if (parameters is Dictionary<string, object?> map)
        {
            foreach (var (name, value) in map)
            {
                command.Parameters.AddWithValue(name, ToSqlite(value));
            }
        }
        else if (parameters is not null)
        {
            throw new FlowActionException("'parameters' must be an object of name -> value");
        }

        var rows = new List<object?>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(context.Token);
            do
            {
                while (await reader.ReadAsync(context.Token))
                {
                    if (rows.Count >= context.Options.MaxRows)
                    {
                        throw new FlowActionException($"the query returned more than {context.Options.MaxRows} rows");
                    }

                    var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                        {
                            long l => (double)l,
                            double d => d,
                            byte[] bytes => Convert.ToBase64String(bytes),
                            var other => Convert.ToString(other, CultureInfo.InvariantCulture),
                        };
                    }

                    rows.Add(row);
                }
            }
            while (await reader.NextResultAsync(context.Token));

            a.SetResult(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["rows"] = rows,
                ["rowsAffected"] = (double)Math.Max(0, reader.RecordsAffected),
            });
        }
        catch (SqliteException e)
        {
            throw new FlowActionException("SQLite: " + e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new FlowActionException("SQLite: " + e.Message);
        }
    }

    private static object ToSqlite(object? value) => FlowValues.Unwrap(value) switch
    {
        null => DBNull.Value,
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
        double d => d,
        bool b => b ? 1L : 0L,
        string s => s,
        var other => FlowValues.ToText(other),
    };

    private static async Task CsvReadAsync(ActionArguments a)
    {
        var path = Existing(a, "path", file: true);
        CheckSize(path, a.Context);
        var records = Csv.Parse(await File.ReadAllTextAsync(path, a.Context.Token), Delimiter(a));
        if (!a.Boolean("hasHeader", true))
        {
            a.SetResult(records.Select(r => (object?)r.Select(f => (object?)f).ToList()).ToList());
            return;
        }

        var header = records.Count > 0 ? records[0] : [];
        a.SetResult(records.Skip(1).Select(r =>
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < header.Count; i++)
            {
                row[header[i]] = i < r.Count ? r[i] : null;
            }

            return (object?)row;
        }).ToList());
    }

    private static async Task CsvWriteAsync(ActionArguments a)
    {
        var path = a.Path("path");
        var delimiter = Delimiter(a);
        if (a.Value("rows") is not List<object?> rows)
        {
            throw new FlowActionException("'rows' must be a list of objects or of lists");
        }

        var columns = a.TextList("columns");
        var lines = new List<IEnumerable<string>>();
        if (rows.Count > 0 && rows.All(r => r is Dictionary<string, object?>))
        {
            columns ??= [.. ((Dictionary<string, object?>)rows[0]!).Keys];
            lines.Add(columns);
            lines.AddRange(rows.Cast<Dictionary<string, object?>>().Select(r => columns.Select(c => FlowValues.ToText(r.GetValueOrDefault(c)))));
        }
        else if (rows.All(r => r is List<object?>))
        {
            if (columns is not null)
            {
                lines.Add(columns);
            }

            lines.AddRange(rows.Cast<List<object?>>().Select(r => r.Select(FlowValues.ToText)));
        }
        else
        {
            throw new FlowActionException("'rows' must be a list of objects or a list of lists, not a mix");
        }

        await File.WriteAllTextAsync(path, Csv.Format(lines, delimiter), a.Context.Token);
    }

    private static char Delimiter(ActionArguments a)
    {
        var text = a.TextOrNull("delimiter") ?? ",";
        return text.Length == 1 && text[0] is not ('"' or '\r' or '\n') ? text[0] : throw new FlowActionException("'delimiter' must be one character other than a quote or a line break");
    }
}

/// <summary>CSV as RFC 4180 describes it: quoted fields may hold delimiters, quotes (doubled) and line breaks.</summary>
internal static class Csv
{
    public static List<List<string>> Parse(string text, char delimiter)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var any = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            any = true;
            if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == delimiter)
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
                any = false;
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            throw new FlowActionException("the CSV ends inside a quoted field");
        }

        if (any || field.Length > 0 || record.Count > 0)
        {
            record.Add(field.ToString());
            records.Add(record);
        }

        return records;
    }

    public static string Format(IEnumerable<IEnumerable<string>> lines, char delimiter)
    {
        var builder = new StringBuilder();
        foreach (var line in lines)
        {
            builder.AppendJoin(delimiter, line.Select(f =>
                f.IndexOfAny([delimiter, '"', '\r', '\n']) >= 0 ? "\"" + f.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : f));
            builder.Append("\r\n");
        }

        return builder.ToString();
    }
}
