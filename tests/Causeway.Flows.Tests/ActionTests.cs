using System.Net;
using System.Text;
using Causeway.Testing;

namespace Causeway.Flows.Tests;

public class ActionTests
{
    [Fact]
    public async Task ProgramRun_Succeeds_CapturesExitCodeStdoutAndStderr()
    {
        var outputs = await Flows.SucceedAsync(
            """{"id": "p", "type": "program.run", "program": "/bin/sh", "arguments": ["-c", "echo out $0; echo err >&2", "%word%"], "result": "r"}""",
            outputs: Flows.Out("r", "object"), inputs: """[{"name": "word", "type": "string", "default": "hello world"}]""");

        Assert.Equal(0, outputs["r"]!["exitCode"]!.GetValue<double>());
        Assert.Equal("out hello world\n", outputs["r"]!["stdout"]!.GetValue<string>());
        Assert.Equal("err\n", outputs["r"]!["stderr"]!.GetValue<string>());
    }

    [Fact]
    public async Task ProgramRun_NonZeroExit_FailsWithCodeUnlessAllowed()
    {
        var failed = await Flows.RunAsync("""{"id": "p", "type": "program.run", "program": "/bin/sh", "arguments": ["-c", "echo broken >&2; exit 3"]}""");
        var allowed = await Flows.SucceedAsync(
            """{"id": "p", "type": "program.run", "program": "/bin/sh", "arguments": ["-c", "exit 3"], "failOnNonZeroExit": false, "result": "r"}""", outputs: Flows.Out("r", "object"));

        Assert.Equal(DesktopFlowRunStatus.Failed, failed.Status);
        Assert.Equal("the program exited with code 3: broken", failed.Error);
        Assert.Equal(3, allowed["r"]!["exitCode"]!.GetValue<double>());
    }

    [Fact]
    public async Task ProgramRun_Timeout_StopsTheProgramAndFails()
    {
        var result = await Flows.RunAsync("""{"id": "p", "type": "program.run", "program": "/bin/sleep", "arguments": ["30"], "timeoutSeconds": 0.3}""");

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Contains("did not finish within 0.3 s", result.Error, StringComparison.Ordinal);
        Assert.True(result.EndedAt - result.StartedAt < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task ProgramRun_MissingProgram_Fails()
    {
        var result = await Flows.RunAsync("""{"id": "p", "type": "program.run", "program": "/no/such/program"}""");

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Contains("could not be started", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileActions_WriteReadCopyMoveDelete_WorkInsideTheRoot()
    {
        using var root = new TempFolder("flows");
        var outputs = await Flows.SucceedAsync(
            """
            {"id": "w", "type": "file.write", "path": "a.txt", "content": "one"},
            {"id": "w2", "type": "file.write", "path": "a.txt", "content": "+two", "append": true},
            {"id": "c", "type": "file.copy", "source": "a.txt", "destination": "b.txt"},
            {"id": "m", "type": "file.move", "source": "b.txt", "destination": "c.txt"},
            {"id": "r", "type": "file.read", "path": "c.txt", "result": "text"},
            {"id": "d", "type": "file.delete", "path": "a.txt"}
            """, root, Flows.Out("text"));

        Assert.Equal("one+two", outputs["text"]!.GetValue<string>());
        Assert.False(File.Exists(root.Combine("a.txt")));
        Assert.False(File.Exists(root.Combine("b.txt")));
        Assert.Equal("one+two", File.ReadAllText(root.Combine("c.txt")));
    }

    [Fact]
    public async Task FileCopy_ExistingDestinationWithoutOverwrite_Fails()
    {
        using var root = new TempFolder("flows");
        File.WriteAllText(root.Combine("a"), "new");
        File.WriteAllText(root.Combine("b"), "old");

        var result = await Flows.RunAsync("""{"id": "c", "type": "file.copy", "source": "a", "destination": "b"}""", root);
        await Flows.SucceedAsync("""{"id": "c", "type": "file.copy", "source": "a", "destination": "b", "overwrite": true}""", root);

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Equal("new", File.ReadAllText(root.Combine("b")));
    }

    [Fact]
    public async Task FileRead_MissingFile_FailsNamingIt()
    {
        using var root = new TempFolder("flows");

        var result = await Flows.RunAsync("""{"id": "r", "type": "file.read", "path": "missing.txt", "result": "x"}""", root);

        Assert.Equal("the file 'missing.txt' does not exist", result.Error);
    }

    [Fact]
    public async Task FolderActions_CreateListCopyMoveDelete_WorkInsideTheRoot()
    {
        using var root = new TempFolder("flows");
        var outputs = await Flows.SucceedAsync(
            """
            {"id": "c", "type": "folder.create", "path": "in/deep"},
            {"id": "w", "type": "file.write", "path": "in/deep/x.txt", "content": "x"},
            {"id": "w2", "type": "file.write", "path": "in/y.csv", "content": "y"},
            {"id": "l", "type": "folder.list", "path": "in", "result": "all"},
            {"id": "l2", "type": "folder.list", "path": "in", "pattern": "*.csv", "result": "csv"},
            {"id": "cp", "type": "folder.copy", "source": "in", "destination": "copy"},
            {"id": "mv", "type": "folder.move", "source": "copy", "destination": "moved"},
            {"id": "d", "type": "folder.delete", "path": "in", "recursive": true}
            """, root, """[{"name": "all", "type": "list"}, {"name": "csv", "type": "list"}]""");

        Assert.Equal("[\"deep\",\"y.csv\"]", outputs["all"]!.ToJsonString());
        Assert.Equal("[\"y.csv\"]", outputs["csv"]!.ToJsonString());
        Assert.False(Directory.Exists(root.Combine("in")));
        Assert.False(Directory.Exists(root.Combine("copy")));
        Assert.Equal("x", File.ReadAllText(root.Combine("moved", "deep", "x.txt")));
    }

    [Fact]
    public async Task FolderDelete_NonEmptyWithoutRecursive_Fails()
    {
        using var root = new TempFolder("flows");
        Directory.CreateDirectory(root.Combine("f"));
        File.WriteAllText(root.Combine("f", "x"), "x");

        var result = await Flows.RunAsync("""{"id": "d", "type": "folder.delete", "path": "f"}""", root);

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.True(File.Exists(root.Combine("f", "x")));
    }

    [Fact]
    public async Task HttpRequest_SendsMethodHeadersAndBody_ReturnsStatusHeadersAndBody()
    {
        var handler = new StubHandler(async request =>
        {
            var body = await request.Content!.ReadAsStringAsync();
            var response = new HttpResponseMessage(HttpStatusCode.Created) { Content = new StringContent($"{request.Method} {request.RequestUri} {request.Headers.GetValues("X-Test").Single()} {request.Content.Headers.ContentType} {body}") };
            response.Headers.Add("X-Answer", "42");
            return response;
        });

        var outputs = await Flows.SucceedAsync(
            """{"id": "h", "type": "http.request", "method": "post", "url": "https://example.test/items?q=%word%", "headers": {"X-Test": "t-%word%", "Content-Type": "application/json"}, "body": "{\"w\": \"%word%\"}", "result": "r"}""",
            outputs: Flows.Out("r", "object"), inputs: """[{"name": "word", "type": "string", "default": "hi"}]""", configure: o => o.HttpHandler = handler);

        Assert.Equal(201, outputs["r"]!["status"]!.GetValue<double>());
        Assert.Equal("42", outputs["r"]!["headers"]!["x-answer"]!.GetValue<string>());
        Assert.Equal("POST https://example.test/items?q=hi t-hi application/json {\"w\": \"hi\"}", outputs["r"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task HttpRequest_ErrorStatus_FailsUnlessAllowed()
    {
        var handler = new StubHandler(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound)));

        var failed = await Flows.RunAsync("""{"id": "h", "type": "http.request", "url": "http://example.test/x"}""", configure: o => o.HttpHandler = handler);
        var allowed = await Flows.SucceedAsync(
            """{"id": "h", "type": "http.request", "url": "http://example.test/x", "failOnErrorStatus": false, "result": "r"}""", outputs: Flows.Out("r", "object"), configure: o => o.HttpHandler = handler);

        Assert.Equal("GET http://example.test/x answered 404 Not Found", failed.Error);
        Assert.Equal(404, allowed["r"]!["status"]!.GetValue<double>());
    }

    [Fact]
    public async Task HttpRequest_NoAnswerInTime_Fails()
    {
        var handler = new StubHandler(_ => new TaskCompletionSource<HttpResponseMessage>().Task);

        var result = await Flows.RunAsync("""{"id": "h", "type": "http.request", "url": "http://example.test/slow", "timeoutSeconds": 0.2}""", configure: o => o.HttpHandler = handler);

        Assert.Equal("no answer within 0.2 s", result.Error);
    }

    [Fact]
    public async Task HttpRequest_NotHttpUrl_Fails()
    {
        var result = await Flows.RunAsync("""{"id": "h", "type": "http.request", "url": "file:///etc/passwd"}""");

        Assert.Contains("not an absolute http or https URL", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextActions_ReplaceSplitJoinTrimUpperLower_GiveExpectedResults()
    {
        var outputs = await Flows.SucceedAsync(
            """
            {"id": "r", "type": "text.replace", "text": "a-b-A", "find": "a", "replacement": "x", "result": "replaced"},
            {"id": "ri", "type": "text.replace", "text": "a-b-A", "find": "a", "replacement": "x", "ignoreCase": true, "result": "replacedIgnoringCase"},
            {"id": "s", "type": "text.split", "text": "a,,b", "separator": ",", "result": "parts"},
            {"id": "s2", "type": "text.split", "text": "a,,b", "separator": ",", "removeEmpty": true, "result": "nonEmpty"},
            {"id": "j", "type": "text.join", "items": "%nonEmpty%", "separator": "+", "result": "joined"},
            {"id": "t", "type": "text.trim", "text": "  x  ", "result": "trimmed"},
            {"id": "u", "type": "text.upper", "text": "abc", "result": "upper"},
            {"id": "l", "type": "text.lower", "text": "ABC", "result": "lower"}
            """,
            outputs: """
            [{"name": "replaced", "type": "string"}, {"name": "replacedIgnoringCase", "type": "string"}, {"name": "parts", "type": "list"}, {"name": "nonEmpty", "type": "list"},
             {"name": "joined", "type": "string"}, {"name": "trimmed", "type": "string"}, {"name": "upper", "type": "string"}, {"name": "lower", "type": "string"}]
            """);

        Assert.Equal("x-b-A", outputs["replaced"]!.GetValue<string>());
        Assert.Equal("x-b-x", outputs["replacedIgnoringCase"]!.GetValue<string>());
        Assert.Equal("[\"a\",\"\",\"b\"]", outputs["parts"]!.ToJsonString());
        Assert.Equal("[\"a\",\"b\"]", outputs["nonEmpty"]!.ToJsonString());
        Assert.Equal("a+b", outputs["joined"]!.GetValue<string>());
        Assert.Equal("x", outputs["trimmed"]!.GetValue<string>());
        Assert.Equal("ABC", outputs["upper"]!.GetValue<string>());
        Assert.Equal("abc", outputs["lower"]!.GetValue<string>());
    }

    [Fact]
    public async Task RegexActions_MatchAndReplace_GiveExpectedResults()
    {
        var outputs = await Flows.SucceedAsync(
            """
            {"id": "m", "type": "regex.match", "text": "order 12 and 34", "pattern": "(\\d)(\\d)", "result": "match"},
            {"id": "n", "type": "regex.match", "text": "none", "pattern": "\\d", "result": "miss"},
            {"id": "r", "type": "regex.replace", "text": "order 12 and 34", "pattern": "\\d+", "replacement": "#", "result": "replaced"}
            """,
            outputs: """[{"name": "match", "type": "object"}, {"name": "miss", "type": "object"}, {"name": "replaced", "type": "string"}]""");

        Assert.Equal("""{"success":true,"value":"12","groups":["1","2"],"matches":["12","34"]}""", outputs["match"]!.ToJsonString());
        Assert.False(outputs["miss"]!["success"]!.GetValue<bool>());
        Assert.Equal("order # and #", outputs["replaced"]!.GetValue<string>());
    }

    [Fact]
    public async Task RegexMatch_InvalidPatternFromVariable_FailsAtRunTime()
    {
        var result = await Flows.RunAsync("""{"id": "m", "type": "regex.match", "text": "x", "pattern": "%p%"}""", inputs: """[{"name": "p", "type": "string"}]""", inputValues: """{"p": "("}""");

        Assert.Contains("not a valid regular expression", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VariableSet_ValueWithPlaceholders_KeepsTypesAndFillsText()
    {
        var outputs = await Flows.SucceedAsync(
            """{"id": "s", "type": "variable.set", "name": "v", "value": {"n": "%n%", "text": "n=%n%", "list": [1, "%n%"], "flag": true}}""",
            outputs: Flows.Out("v", "object"), inputs: """[{"name": "n", "type": "number", "default": 2}]""");

        Assert.Equal("""{"n":2,"text":"n=2","list":[1,2],"flag":true}""", outputs["v"]!.ToJsonString());
    }

    [Fact]
    public async Task If_ConditionTrueOrFalse_RunsTheMatchingBranch()
    {
        const string Actions = """
            {"id": "i", "type": "if", "condition": "n > 3 and not (name == 'skip')",
             "then": [{"id": "t", "type": "variable.set", "name": "branch", "value": "then"}],
             "else": [{"id": "e", "type": "variable.set", "name": "branch", "value": "else"}]}
            """;
        const string Inputs = """[{"name": "n", "type": "number"}, {"name": "name", "type": "string", "default": ""}]""";

        var big = await Flows.SucceedAsync(Actions, outputs: Flows.Out("branch"), inputs: Inputs, inputValues: """{"n": 5}""");
        var small = await Flows.SucceedAsync(Actions, outputs: Flows.Out("branch"), inputs: Inputs, inputValues: """{"n": 1}""");
        var skipped = await Flows.SucceedAsync(Actions, outputs: Flows.Out("branch"), inputs: Inputs, inputValues: """{"n": 5, "name": "skip"}""");

        Assert.Equal("then", big["branch"]!.GetValue<string>());
        Assert.Equal("else", small["branch"]!.GetValue<string>());
        Assert.Equal("else", skipped["branch"]!.GetValue<string>());
    }

    [Fact]
    public async Task If_ConditionNotBoolean_Fails()
    {
        var result = await Flows.RunAsync("""{"id": "i", "type": "if", "condition": "n", "then": []}""", inputs: """[{"name": "n", "type": "number", "default": 1}]""");

        Assert.Contains("must be true or false", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForEach_List_RunsTheBodyForEachItemInOrder()
    {
        var result = await Flows.RunAsync(
            """
            {"id": "init", "type": "variable.set", "name": "acc", "value": ""},
            {"id": "loop", "type": "forEach", "items": "%names%", "as": "name", "actions": [
              {"id": "add", "type": "variable.set", "name": "acc", "value": "%acc%<%name%>"}
            ]}
            """, outputs: Flows.Out("acc"), inputs: """[{"name": "names", "type": "list"}]""", inputValues: """{"names": ["a", "b", "c"]}""");

        Assert.Equal("<a><b><c>", result.Outputs["acc"]!.GetValue<string>());
        Assert.Equal(["init", "loop", "add", "add", "add"], result.Log.Select(e => e.ActionId));
    }

    [Fact]
    public async Task ForEach_MoreItemsThanAllowed_Fails()
    {
        var result = await Flows.RunAsync("""{"id": "loop", "type": "forEach", "items": [1, 2, 3], "as": "x", "actions": []}""", configure: o => o.MaxLoopIterations = 2);

        Assert.Contains("at most 2 times", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_ShortWait_Succeeds()
    {
        var result = await Flows.RunAsync("""{"id": "w", "type": "wait", "seconds": 0.01}""");

        Assert.Equal(DesktopFlowRunStatus.Succeeded, result.Status);
    }

    [Fact]
    public async Task SqliteQuery_ParametersOnly_StoreValuesAsData()
    {
        using var root = new TempFolder("flows");
        var outputs = await Flows.SucceedAsync(
            """
            {"id": "c", "type": "sqlite.query", "database": "app.db", "sql": "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, active INTEGER)"},
            {"id": "i", "type": "sqlite.query", "database": "app.db", "sql": "INSERT INTO people (name, score, active) VALUES (@name, @score, @active), ('plain', 1.5, 0)",
             "parameters": {"name": "%name%", "score": 7, "active": true}, "result": "inserted"},
            {"id": "s", "type": "sqlite.query", "database": "app.db", "sql": "SELECT id, name, score, active FROM people WHERE score > $min ORDER BY id", "parameters": {"min": 1}, "result": "selected"},
            {"id": "n", "type": "variable.set", "name": "count", "value": "%selected.rows[0].name%"}
            """, root, """[{"name": "inserted", "type": "object"}, {"name": "selected", "type": "object"}, {"name": "count", "type": "string"}]""",
            """[{"name": "name", "type": "string"}]""", """{"name": "Robert'); DROP TABLE people;--"}""");

        Assert.Equal(2, outputs["inserted"]!["rowsAffected"]!.GetValue<double>());
        Assert.Equal(
            """{"rows":[{"id":1,"name":"Robert\u0027); DROP TABLE people;--","score":7,"active":1},{"id":2,"name":"plain","score":1.5,"active":0}],"rowsAffected":0}""",
            outputs["selected"]!.ToJsonString());
        Assert.Equal("Robert'); DROP TABLE people;--", outputs["count"]!.GetValue<string>());
    }

    [Fact]
    public async Task SqliteQuery_BadSql_FailsWithTheDatabaseMessage()
    {
        using var root = new TempFolder("flows");

        var result = await Flows.RunAsync("""{"id": "q", "type": "sqlite.query", "database": "app.db", "sql": "SELECT * FROM nowhere"}""", root);

        Assert.StartsWith("SQLite: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("nowhere", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CsvWriteThenRead_QuotesCommasAndLineBreaks_RoundTrip()
    {
        using var root = new TempFolder("flows");
        var outputs = await Flows.SucceedAsync(
            """
            {"id": "w", "type": "csv.write", "path": "out.csv", "rows": [{"name": "a, b", "note": "say \"hi\""}, {"name": "line\nbreak", "note": 3}]},
            {"id": "r", "type": "csv.read", "path": "out.csv", "result": "rows"},
            {"id": "r2", "type": "csv.read", "path": "out.csv", "hasHeader": false, "result": "raw"},
            {"id": "w2", "type": "csv.write", "path": "semi.csv", "rows": [["1", "2"]], "columns": ["x", "y"], "delimiter": ";"}
            """, root, """[{"name": "rows", "type": "list"}, {"name": "raw", "type": "list"}]""");

        Assert.Equal("""[{"name":"a, b","note":"say \u0022hi\u0022"},{"name":"line\nbreak","note":"3"}]""", outputs["rows"]!.ToJsonString());
        Assert.Equal(3, outputs["raw"]!.AsArray().Count);
        Assert.Equal("name,note\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\"line\nbreak\",3\r\n", File.ReadAllText(root.Combine("out.csv")));
        Assert.Equal("x;y\r\n1;2\r\n", File.ReadAllText(root.Combine("semi.csv")));
    }

    [Fact]
    public async Task CsvRead_UnclosedQuote_Fails()
    {
        using var root = new TempFolder("flows");
        File.WriteAllText(root.Combine("bad.csv"), "a,\"b\n", Encoding.UTF8);

        var result = await Flows.RunAsync("""{"id": "r", "type": "csv.read", "path": "bad.csv"}""", root);

        Assert.Equal("the CSV ends inside a quoted field", result.Error);
    }

    private sealed class StubHandler(Func<HttpRequestMessage, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            answer(request).WaitAsync(cancellationToken);
    }
}
