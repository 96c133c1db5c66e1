using System.Text;
using Causeway.Testing;

namespace Causeway.Flows.Tests;

public class RunnerTests
{
    [Fact]
    public async Task RunAsync_ActionFails_LaterActionsSkippedAndErrorReported()
    {
        using var root = new TempFolder("flows");

        var result = await Flows.RunAsync(
            """
            {"id": "one", "type": "file.write", "path": "one.txt", "content": "1"},
            {"id": "two", "type": "file.read", "path": "missing.txt", "result": "x"},
            {"id": "three", "type": "file.write", "path": "three.txt", "content": "3"},
            {"id": "four", "type": "text.trim", "text": "x"}
            """, root);

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Equal("two", result.FailedActionId);
        Assert.Equal("the file 'missing.txt' does not exist", result.Error);
        Assert.Equal(
            [("one", ActionRunStatus.Succeeded), ("two", ActionRunStatus.Failed), ("three", ActionRunStatus.Skipped), ("four", ActionRunStatus.Skipped)],
            result.Log.Select(e => (e.ActionId, e.Status)));
        Assert.Equal(result.Error, result.Log[1].Error);
        Assert.NotNull(result.Log[1].StartedAt);
        Assert.True(result.Log[1].EndedAt >= result.Log[1].StartedAt);
        Assert.Null(result.Log[2].StartedAt);
        Assert.False(File.Exists(root.Combine("three.txt")));
    }

    [Fact]
    public async Task RunAsync_FailureInsideLoop_FailsTheLoopAndSkipsWhatFollowsAtEveryLevel()
    {
        var result = await Flows.RunAsync(
            """
            {"id": "loop", "type": "forEach", "items": [1, 0, 2], "as": "n", "actions": [
              {"id": "check", "type": "if", "condition": "n == 0", "then": [{"id": "boom", "type": "text.trim", "text": "%n.missing%"}]},
              {"id": "after", "type": "text.trim", "text": "x"}
            ]},
            {"id": "last", "type": "text.trim", "text": "x"}
            """);

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Equal("boom", result.FailedActionId);
        Assert.Equal(
            [
                ("loop", ActionRunStatus.Failed), ("check", ActionRunStatus.Succeeded), ("after", ActionRunStatus.Succeeded),
                ("check", ActionRunStatus.Failed), ("boom", ActionRunStatus.Failed), ("after", ActionRunStatus.Skipped), ("last", ActionRunStatus.Skipped),
            ],
            result.Log.Select(e => (e.ActionId, e.Status)));
        Assert.Equal(result.Error, result.Log[0].Error);
    }

    [Fact]
    public async Task RunAsync_TimeLimitReached_TimedOutAndRestSkipped()
    {
        var result = await Flows.RunAsync(
            """{"id": "w", "type": "wait", "seconds": 600}, {"id": "after", "type": "text.trim", "text": "x"}""",
            configure: o => o.TimeLimit = TimeSpan.FromMilliseconds(200));

        Assert.Equal(DesktopFlowRunStatus.TimedOut, result.Status);
        Assert.Equal("the run reached its time limit", result.Error);
        Assert.Equal([("w", ActionRunStatus.TimedOut), ("after", ActionRunStatus.Skipped)], result.Log.Select(e => (e.ActionId, e.Status)));
    }

    [Fact]
    public async Task RunAsync_PerRunTimeLimitShorterThanConfigured_Applies()
    {
        var definition = DesktopFlowDefinition.Parse(Flows.Definition("""{"id": "p", "type": "program.run", "program": "/bin/sleep", "arguments": ["30"]}"""));

        var result = await Flows.Runner().RunAsync(definition, null, timeLimit: TimeSpan.FromMilliseconds(200));

        Assert.Equal(DesktopFlowRunStatus.TimedOut, result.Status);
        Assert.Equal(ActionRunStatus.TimedOut, Assert.Single(result.Log).Status);
    }

    [Fact]
    public async Task RunAsync_Cancelled_CancelledAndRestSkipped()
    {
        using var cancellation = new CancellationTokenSource();
        var definition = DesktopFlowDefinition.Parse(Flows.Definition(
            """{"id": "w", "type": "wait", "seconds": 600}, {"id": "after", "type": "text.trim", "text": "x"}"""));
        var run = Flows.Runner().RunAsync(definition, null, cancellation.Token);

        await cancellation.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(DesktopFlowRunStatus.Cancelled, result.Status);
        Assert.Equal("the run was cancelled", result.Error);
        Assert.Equal([("w", ActionRunStatus.Cancelled), ("after", ActionRunStatus.Skipped)], result.Log.Select(e => (e.ActionId, e.Status)));
    }

    [Fact]
    public async Task RunAsync_CancelledWhileProgramRuns_StopsTheProgram()
    {
        using var cancellation = new CancellationTokenSource();
        using var root = new TempFolder("flows");
        var marker = root.Combine("started");
        var definition = DesktopFlowDefinition.Parse(Flows.Definition(
            $$"""{"id": "p", "type": "program.run", "program": "/bin/sh", "arguments": ["-c", "touch '{{marker}}'; sleep 30"]}"""));
        var run = Flows.Runner().RunAsync(definition, null, cancellation.Token);

        await Poll.UntilAsync(() => Task.FromResult(File.Exists(marker)), TimeSpan.FromSeconds(10), "the program to start");
        await cancellation.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(DesktopFlowRunStatus.Cancelled, result.Status);
    }

    [Fact]
    public async Task RunAsync_SecretInput_NeverAppearsInTheLog()
    {
        using var root = new TempFolder("flows");
        const string Secret = "s3cr3t-canary-7f1c";

        var result = await Flows.RunAsync(
            """
            {"id": "use", "type": "http.request", "url": "http://example.test/", "headers": {"Authorization": "Bearer %password%"}, "failOnErrorStatus": true},
            {"id": "read", "type": "file.read", "path": "/outside/%password%.txt"}
            """,
            root, inputs: """[{"name": "password", "type": "secret", "required": true}]""", inputValues: $$"""{"password": "{{Secret}}"}""",
            configure: o => o.HttpHandler = new EchoingFailureHandler());

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Contains("***", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, DesktopFlowRunner.Serialize(result), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Log[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SecretOutsideRootPath_RedactedInTheError()
    {
        using var root = new TempFolder("flows");

        var result = await Flows.RunAsync(
            """{"id": "read", "type": "file.read", "path": "/outside/%password%.txt"}""",
            root, inputs: """[{"name": "password", "type": "secret"}]""", inputValues: """{"password": "hunter2"}""");

        Assert.Equal("'/outside/***.txt' is outside the folders this machine allows (" + root.Path + ")", result.Error);
    }

    [Fact]
    public async Task RunAsync_OutputsOfDeclaredTypes_ReturnedAndMismatchFailsTheRun()
    {
        var good = await Flows.RunAsync("""{"id": "s", "type": "variable.set", "name": "n", "value": 4}""", outputs: Flows.Out("n", "number"));
        var bad = await Flows.RunAsync("""{"id": "s", "type": "variable.set", "name": "n", "value": "four"}""", outputs: Flows.Out("n", "number"));
        var unset = await Flows.RunAsync("", outputs: Flows.Out("n", "number"));

        Assert.Equal(4, good.Outputs["n"]!.GetValue<double>());
        Assert.Equal(DesktopFlowRunStatus.Failed, bad.Status);
        Assert.Contains("declared number but holds a string", bad.Error, StringComparison.Ordinal);
        Assert.Equal(DesktopFlowRunStatus.Succeeded, unset.Status);
        Assert.Null(unset.Outputs["n"]);
    }

    [Theory]
    [InlineData("""{"other": 1}""", "not an input")]
    [InlineData("""{"n": "five"}""", "must be a number")]
    [InlineData("""{}""", "required input 'n' is missing")]
    [InlineData("""[1]""", "JSON object")]
    [InlineData("""{"n": """, "not JSON")]
    public async Task RunAsync_InvalidInputs_ThrowsBeforeRunning(string inputs, string message)
    {
        using var root = new TempFolder("flows");
        var definition = DesktopFlowDefinition.Parse(Flows.Definition(
            """{"id": "w", "type": "file.write", "path": "ran.txt", "content": "x"}""", """[{"name": "n", "type": "number", "required": true}]"""));

        var error = await Assert.ThrowsAsync<DesktopFlowValidationException>(() => Flows.Runner(root).RunAsync(definition, inputs));

        Assert.Contains(error.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
        Assert.False(File.Exists(root.Combine("ran.txt")));
    }

    [Fact]
    public async Task RunAsync_InputsOverTwoMegabytes_Rejected()
    {
        var definition = DesktopFlowDefinition.Parse(Flows.Definition("", """[{"name": "s", "type": "string"}]"""));
        var inputs = "{\"s\": \"" + new string('x', DesktopFlowDefinition.MaxInputBytes) + "\"}";

        var error = await Assert.ThrowsAsync<DesktopFlowValidationException>(() => Flows.Runner().RunAsync(definition, inputs));

        Assert.Contains("larger than 2097152 bytes", Assert.Single(error.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InputDefaults_UsedWhenNotSupplied()
    {
        var outputs = await Flows.SucceedAsync(
            """{"id": "s", "type": "variable.set", "name": "v", "value": "%a%-%b%"}""",
            outputs: Flows.Out("v"), inputs: """[{"name": "a", "type": "string", "default": "x"}, {"name": "b", "type": "boolean", "default": false}]""", inputValues: """{"a": "y"}""");

        Assert.Equal("y-false", outputs["v"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(25)]
    public void Constructor_TimeLimitOutOfRange_ThrowsNamingTheSetting(int hours)
    {
        var error = Assert.Throws<ArgumentException>(() => Flows.Runner(configure: o => o.TimeLimit = TimeSpan.FromHours(hours)));

        Assert.Contains("TimeLimit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RelativeRoot_Throws()
    {
        Assert.Throws<ArgumentException>(() => Flows.Runner(configure: o => o.Roots.Add("relative/dir")));
    }

    [Fact]
    public async Task RunAsync_ManyLogEntries_TruncatesTheLog()
    {
        var result = await Flows.RunAsync(
            """{"id": "loop", "type": "forEach", "items": [1, 2, 3, 4, 5], "as": "x", "actions": [{"id": "t", "type": "text.trim", "text": "x"}]}""",
            configure: o => o.MaxLogEntries = 3);

        Assert.Equal(DesktopFlowRunStatus.Succeeded, result.Status);
        Assert.Equal(3, result.Log.Count);
        Assert.True(result.LogTruncated);
    }

    [Fact]
    public void Serialize_Result_UsesCamelCaseAndStatusNames()
    {
        var result = new DesktopFlowRunResult(DesktopFlowRunStatus.TimedOut, [], [], "e", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, false);

        var json = DesktopFlowRunner.Serialize(result);

        Assert.Contains("\"status\":\"TimedOut\"", json, StringComparison.Ordinal);
        Assert.Contains("\"failedActionId\":null", json, StringComparison.Ordinal);
    }

    private sealed class EchoingFailureHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException("refused: " + request.Headers.Authorization, null, null);
    }
}

public class RootsTests
{
    [Theory]
    [InlineData("""{"id": "a", "type": "file.write", "path": "../escape.txt", "content": "x"}""")]
    [InlineData("""{"id": "a", "type": "file.write", "path": "/tmp/causeway-flows-escape.txt", "content": "x"}""")]
    [InlineData("""{"id": "a", "type": "file.copy", "source": "inside.txt", "destination": "../escape.txt"}""")]
    [InlineData("""{"id": "a", "type": "folder.create", "path": "../escape"}""")]
    [InlineData("""{"id": "a", "type": "csv.write", "path": "../escape.txt", "rows": [[1]]}""")]
    [InlineData("""{"id": "a", "type": "sqlite.query", "database": "../escape.txt", "sql": "SELECT 1"}""")]
    public async Task FileActions_OutsideTheRoots_RefusedAndNothingWritten(string action)
    {
        using var parent = new TempFolder("flows");
        var root = Directory.CreateDirectory(parent.Combine("root")).FullName;
        File.WriteAllText(Path.Combine(root, "inside.txt"), "x");

        var result = await Flows.Runner(configure: o => o.Roots.Add(root)).RunAsync(DesktopFlowDefinition.Parse(Flows.Definition(action)), null);

        Assert.Equal(DesktopFlowRunStatus.Failed, result.Status);
        Assert.Contains("outside the folders this machine allows", result.Error, StringComparison.Ordinal);
        Assert.Equal(["root"], Directory.EnumerateFileSystemEntries(parent.Path).Select(Path.GetFileName));
        Assert.False(File.Exists("/tmp/causeway-flows-escape.txt"));
    }

    [Fact]
    public async Task FileRead_SiblingFolderSharingThePrefix_Refused()
    {
        using var parent = new TempFolder("flows");
        var root = Directory.CreateDirectory(parent.Combine("data")).FullName;
        Directory.CreateDirectory(parent.Combine("data2"));
        File.WriteAllText(parent.Combine("data2", "x.txt"), "secret");

        var result = await Flows.Runner(configure: o => o.Roots.Add(root)).RunAsync(
            DesktopFlowDefinition.Parse(Flows.Definition("""{"id": "r", "type": "file.read", "path": "../data2/x.txt"}""")), null);

        Assert.Contains("outside the folders", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileRead_ThroughSymbolicLinkLeadingOut_Refused()
    {
        using var parent = new TempFolder("flows");
        var root = Directory.CreateDirectory(parent.Combine("root")).FullName;
        var outside = Directory.CreateDirectory(parent.Combine("outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "x.txt"), "secret");
        Directory.CreateSymbolicLink(Path.Combine(root, "link"), outside);
        File.CreateSymbolicLink(Path.Combine(root, "file-link"), Path.Combine(outside, "x.txt"));
        var runner = Flows.Runner(configure: o => o.Roots.Add(root));

        var throughFolder = await runner.RunAsync(DesktopFlowDefinition.Parse(Flows.Definition("""{"id": "r", "type": "file.read", "path": "link/x.txt"}""")), null);
        var throughFile = await runner.RunAsync(DesktopFlowDefinition.Parse(Flows.Definition("""{"id": "r", "type": "file.read", "path": "file-link"}""")), null);

        Assert.Contains("link that leads outside", throughFolder.Error, StringComparison.Ordinal);
        Assert.Contains("link that leads outside", throughFile.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileActions_NoRootsConfigured_Refused()
    {
        var result = await Flows.RunAsync("""{"id": "r", "type": "file.write", "path": "/tmp/x", "content": "x"}""");

        Assert.Contains("no roots are configured", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FolderDelete_TheRootItself_Refused()
    {
        using var root = new TempFolder("flows");

        var result = await Flows.RunAsync($$"""{"id": "d", "type": "folder.delete", "path": "{{Flows.Escape(root.Path)}}", "recursive": true}""", root);

        Assert.Equal("a root folder itself cannot be moved or deleted", result.Error);
        Assert.True(Directory.Exists(root.Path));
    }

    [Fact]
    public async Task FileWrite_SecondRoot_Allowed()
    {
        using var first = new TempFolder("flows");
        using var second = new TempFolder("flows");
        var target = Path.Combine(second.Path, "x.txt");

        var result = await Flows.RunAsync($$"""{"id": "w", "type": "file.write", "path": "{{Flows.Escape(target)}}", "content": "ok"}""", first,
            configure: o => o.Roots.Add(second.Path));

        Assert.Equal(DesktopFlowRunStatus.Succeeded, result.Status);
        Assert.Equal("ok", File.ReadAllText(target, Encoding.UTF8));
    }
}
