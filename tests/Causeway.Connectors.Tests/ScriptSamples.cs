namespace Causeway.Connectors.Tests;

/// <summary>Small scripts written for the tests (the corpus supplies real ones).</summary>
internal static class ScriptSamples
{
    /// <summary>Answers 200 with the operation id and the request URL, without calling the backend.</summary>
    public const string Echo = """
        public class Script : ScriptBase
        {
            public override Task<HttpResponseMessage> ExecuteAsync()
            {
                var body = new JObject { ["operation"] = Context.OperationId, ["url"] = Context.Request.RequestUri.ToString() };
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = CreateJsonContent(body.ToString(Newtonsoft.Json.Formatting.None)) });
            }
        }
        """;

    /// <summary>Never ends, and tries to swallow whatever stops it.</summary>
    public const string Forever = """
        public class Script : ScriptBase
        {
            public override async Task<HttpResponseMessage> ExecuteAsync()
            {
                long n = 0;
                while (true)
                {
                    try
                    {
                        for (;;) { n++; }
                    }
                    catch (Exception)
                    {
                        n = 0;
                    }
                }
            }
        }
        """;

    /// <summary>Recurses without end.</summary>
    public const string Recursion = """
        public class Script : ScriptBase
        {
            public override Task<HttpResponseMessage> ExecuteAsync() => Task.FromResult(new HttpResponseMessage((HttpStatusCode)Depth(0)));

            // Not a tail call, so the stack grows.
            private int Depth(int depth) => Depth(depth + 1) + 1;
        }
        """;

    /// <summary>Throws a message naming the operation.</summary>
    public const string Throws = """
        public class Script : ScriptBase
        {
            public override Task<HttpResponseMessage> ExecuteAsync()
            {
                throw new InvalidOperationException("no route for " + Context.OperationId);
            }
        }
        """;

    /// <summary>A script whose line 5 holds <paramref name="statement"/>, inside ExecuteAsync.</summary>
    public static string WithStatement(string statement) => $$"""
        public class Script : ScriptBase
        {
            public override async Task<HttpResponseMessage> ExecuteAsync()
            {
                {{statement}}
                return new HttpResponseMessage(HttpStatusCode.OK);
            }
        }
        """;
}
