using System.Text;
using Causeway.Bus;
using Causeway.Testing;

namespace Causeway.Gateway.Tests;

/// <summary>
/// The bus contract, run against every transport (<see cref="WebSocketBusTests"/>, <see cref="RabbitMqBusTests"/>): the
/// serving side wraps <see cref="Handler"/> in an <see cref="IdempotentHandler"/>, as the agent does.
/// </summary>
public abstract class BusConformanceTests : IAsyncLifetime
{
    /// <summary>The message size limit both sides of every transport are given here.</summary>
    protected const int MaxMessageSize = 256 * 1024;

    protected DelegateHandler Handler { get; } = new();

    /// <summary>Sends to the serving side.</summary>
    protected IBusClient Client { get; set; } = null!;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>The serving side vanishes at once, as a killed process would.</summary>
    protected abstract Task KillServingSideAsync();

    [Fact]
    public async Task SendAsync_HandlerAnswers_ReturnsStatusHeadAndWholeBody()
    {
        Handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(201, Encoding.UTF8.GetBytes(request.Operation + "|" + request.IdempotencyKey), ct);
            await response.Body.WriteAsync(request.Body, ct);
        };

        await using var response = await Client.SendAsync(new BusRequest("echo", "hello"u8.ToArray()) { IdempotencyKey = "k1" }, CancellationToken.None);

        Assert.Equal(201, response.Status);
        Assert.Equal("echo|k1", BusNotices.Text(response.Head));
        Assert.Equal("hello", await new StreamReader(response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task SendAsync_ManyConcurrentRequests_AreMultiplexedByCorrelationId()
    {
        Handler.Handle = async (request, response, ct) =>
        {
            await Task.Yield();
            await response.StartAsync(200, default, ct);
            await response.Body.WriteAsync(request.Body, ct);
        };

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            await using var response = await Client.SendAsync(new BusRequest("echo", Encoding.UTF8.GetBytes($"n{i}")), CancellationToken.None);
            return await new StreamReader(response.Body).ReadToEndAsync();
        }));

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"n{i}"), answers);
    }

    [Fact]
    public async Task Body_LargeStreamedAnswer_ArrivesWholeAndInOrder()
    {
        const int Size = 5 * 1024 * 1024 + 123;
        Handler.Handle = async (request, response, ct) =>
        {
            var block = new byte[10_000];
            for (var written = 0; written < Size; written += block.Length)
            {
                var n = Math.Min(block.Length, Size - written);
                for (var i = 0; i < n; i++)
                {
                    block[i] = (byte)((written + i) % 251);
                }

                await response.Body.WriteAsync(block.AsMemory(0, n), ct);
            }
        };

        await using var response = await Client.SendAsync(new BusRequest("big", default), CancellationToken.None);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await response.Body.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                Assert.True(buffer[i] == (byte)((total + i) % 251), $"byte {total + i} is wrong");
            }

            total += read;
        }

        Assert.Equal(Size, total);
    }

    [Fact]
    public async Task Body_SlowReader_HoldsTheWriterBackByCredit()
    {
        var written = 0;
        Handler.Handle = async (request, response, ct) =>
        {
            var chunk = new byte[WebSocketBusConnection.ChunkSize];
            for (var i = 0; i < 100; i++)
            {
                await response.Body.WriteAsync(chunk, ct);
                Interlocked.Increment(ref written);
            }
        };

        await using var response = await Client.SendAsync(new BusRequest("big", default), CancellationToken.None);
        await Poll.UntilAsync(() => Volatile.Read(ref written) >= WebSocketBusConnection.InitialCredit, TimeSpan.FromSeconds(10), "the first chunks");
        var total = 0L;
        var maxAhead = 0L;
        var buffer = new byte[WebSocketBusConnection.ChunkSize];
        int n;
        while ((n = await response.Body.ReadAsync(buffer)) > 0)
        {
            total += n;
            // The writer may run ahead of the reader by its credit window (plus the chunk it is buffering), never more.
            maxAhead = Math.Max(maxAhead, Volatile.Read(ref written) - (total / WebSocketBusConnection.ChunkSize));
        }

        Assert.InRange(maxAhead, 1, WebSocketBusConnection.InitialCredit + 2);
        Assert.Equal(100L * WebSocketBusConnection.ChunkSize, total);
    }

    [Fact]
    public async Task Body_ServingSideVanishesMidStream_ReadThrowsInsteadOfEndingEarly()
    {
        var started = new TaskCompletionSource();
        Handler.Handle = async (request, response, ct) =>
        {
            await response.Body.WriteAsync(new byte[WebSocketBusConnection.ChunkSize * 2], ct);
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        };

        await using var response = await Client.SendAsync(new BusRequest("stream", default), CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var buffer = new byte[WebSocketBusConnection.ChunkSize];
        Assert.True(await response.Body.ReadAsync(buffer) > 0);
        await KillServingSideAsync();

        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (await response.Body.ReadAsync(buffer) > 0)
            {
            }
        }).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains("cut short", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_DeadlinePasses_ThrowsDeadlineAndHandlerIsCancelled()
    {
        var cancelled = new TaskCompletionSource();
        Handler.Handle = async (request, response, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
        };

        var error = await Assert.ThrowsAsync<BusException>(() =>
            Client.SendAsync(new BusRequest("slow", default) { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(500) }, CancellationToken.None));

        Assert.Equal(BusErrorKind.DeadlineExceeded, error.Kind);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SendAsync_CallerCancels_HandlerIsCancelled()
    {
        var running = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource();
        Handler.Handle = async (request, response, ct) =>
        {
            running.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
        };
        using var cts = new CancellationTokenSource();
        var send = Client.SendAsync(new BusRequest("slow", default), cts.Token);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SendAsync_HandlerThrows_SafeMessagesOnly()
    {
        Handler.Handle = (request, response, ct) => request.Operation == "known"
            ? throw new BusException("datasource-unreachable", "The database does not answer.")
            : throw new InvalidOperationException("password=hunter2");

        var known = await Assert.ThrowsAsync<BusException>(() => Client.SendAsync(new BusRequest("known", default), CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<BusException>(() => Client.SendAsync(new BusRequest("other", default), CancellationToken.None));

        Assert.Equal("datasource-unreachable", known.Code);
        Assert.Equal("The database does not answer.", known.Message);
        Assert.DoesNotContain("hunter2", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_RequestOverTheSizeLimit_RefusedBeforeSendingAndTheBusStillWorks()
    {
        var handled = 0;
        Handler.Handle = async (request, response, ct) =>
        {
            Interlocked.Increment(ref handled);
            await response.StartAsync(200, default, ct);
        };

        var error = await Assert.ThrowsAsync<BusException>(() => Client.SendAsync(new BusRequest("big", new byte[MaxMessageSize + 1]), CancellationToken.None));
        await using var after = await Client.SendAsync(new BusRequest("small", new byte[MaxMessageSize / 2]), CancellationToken.None);

        Assert.Equal(BusErrorKind.MessageTooLarge, error.Kind);
        Assert.Contains($"{MaxMessageSize}", error.Message, StringComparison.Ordinal);
        Assert.Equal(200, after.Status);
        Assert.Equal(1, Volatile.Read(ref handled));
    }

    [Fact]
    public async Task SendAsync_SameIdempotencyKeyTwice_AppliedOnceAndTheRetryGetsTheFirstAnswer()
    {
        var applied = 0;
        var release = new TaskCompletionSource();
        Handler.Handle = async (request, response, ct) =>
        {
            var n = Interlocked.Increment(ref applied);
            if (request.IdempotencyKey == "concurrent")
            {
                await release.Task.WaitAsync(ct);
            }

            await response.StartAsync(201, Encoding.UTF8.GetBytes($"write {n}"), ct);
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"row {n} inserted"), ct);
        };

        async Task<string> SendAsync(string key, string body)
        {
            await using var response = await Client.SendAsync(new BusRequest("insert", Encoding.UTF8.GetBytes(body)) { IdempotencyKey = key }, CancellationToken.None);
            return $"{response.Status} {BusNotices.Text(response.Head)}: {await new StreamReader(response.Body).ReadToEndAsync()}";
        }

        var first = await SendAsync("w1", "{\"name\":\"a\"}");
        var retry = await SendAsync("w1", "{\"name\":\"a\"}");
        Assert.Equal("201 write 1: row 1 inserted", first);
        Assert.Equal(first, retry);
        Assert.Equal(1, Volatile.Read(ref applied));

        // A retry that arrives while the first is still running waits for it instead of running again.
        var one = SendAsync("concurrent", "x");
        await Poll.UntilAsync(() => Volatile.Read(ref applied) == 2, TimeSpan.FromSeconds(10), "the first concurrent write to start");
        var two = SendAsync("concurrent", "x");
        release.SetResult();
        Assert.Equal(await one, await two);
        Assert.Equal(2, Volatile.Read(ref applied));

        var reused = await Assert.ThrowsAsync<BusException>(() => SendAsync("w1", "{\"name\":\"other\"}"));
        Assert.Equal("idempotency-key-reused", reused.Code);
        Assert.Equal(2, Volatile.Read(ref applied));

        // A first attempt that failed applied nothing: its retry runs.
        var attempts = 0;
        Handler.Handle = async (request, response, ct) =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                throw new BusException("datasource-unreachable", "The database does not answer.");
            }

            await response.StartAsync(201, default, ct);
        };
        await Assert.ThrowsAsync<BusException>(() => SendAsync("w3", "y"));
        Assert.StartsWith("201", await SendAsync("w3", "y"), StringComparison.Ordinal);
        Assert.Equal(2, Volatile.Read(ref attempts));
    }

    protected sealed class DelegateHandler : IBusHandler
    {
        public Func<BusIncomingRequest, IBusResponseWriter, CancellationToken, Task> Handle { get; set; } = (_, _, _) => Task.CompletedTask;

        public Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken) => Handle(request, response, cancellationToken);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(WebSocketBusConnection.ChunkSize - 1)]
    [InlineData(WebSocketBusConnection.ChunkSize)]
    [InlineData(WebSocketBusConnection.ChunkSize + 1)]
    public async Task Body_AnswersAroundOneChunk_ArriveWholeWithTheirHead(int size)
    {
        // Up to one chunk the head, body and end travel as one message; above it as head, chunks and end.
        var body = Enumerable.Range(0, size).Select(i => (byte)(i % 251)).ToArray();
        Handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(203, "head"u8.ToArray(), ct);
            await response.Body.WriteAsync(body, ct);
        };

        await using var response = await Client.SendAsync(new BusRequest("sized", default), CancellationToken.None);
        if (size < WebSocketBusConnection.ChunkSize)
        {
            Assert.Equal(body, response.WholeBody?.ToArray());
        }
        else if (size > WebSocketBusConnection.ChunkSize)
        {
            Assert.Null(response.WholeBody);
        }

        using var received = new MemoryStream();
        await response.Body.CopyToAsync(received);

        Assert.Equal(203, response.Status);
        Assert.Equal("head", BusNotices.Text(response.Head));
        Assert.Equal(body, received.ToArray());
    }

    [Fact]
    public async Task SendAsync_HandlerReturnsWithoutStarting_Answers204WithNoBody()
    {
        Handler.Handle = (request, response, ct) => Task.CompletedTask;

        await using var response = await Client.SendAsync(new BusRequest("nothing", default), CancellationToken.None);

        Assert.Equal(204, response.Status);
        Assert.True(response.Head.IsEmpty);
        Assert.Equal("", await new StreamReader(response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task Body_HandlerFailsAfterStarting_HeadArrivesAndTheReadThrows()
    {
        // The held head still goes out before the error: the caller sees a started answer cut short, never a clean one.
        Handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(200, Encoding.UTF8.GetBytes("started"), ct);
            await response.Body.WriteAsync("partial"u8.ToArray(), ct);
            throw new BusException("datasource-unreachable", "The database went away.");
        };

        await using var response = await Client.SendAsync(new BusRequest("fails", default), CancellationToken.None);

        Assert.Equal(200, response.Status);
        Assert.Equal("started", BusNotices.Text(response.Head));
        var error = await Assert.ThrowsAsync<IOException>(() => new StreamReader(response.Body).ReadToEndAsync());
        Assert.Contains("The database went away.", error.Message, StringComparison.Ordinal);
    }
}
