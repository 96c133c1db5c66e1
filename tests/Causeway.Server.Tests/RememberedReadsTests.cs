using Causeway.Platform.Database;
using Causeway.Testing;

namespace Causeway.Server.Tests;

public sealed class RememberedReadsTests
{
    [Fact]
    public void TryGet_WithinLifetime_Hits_AfterItMisses()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var memory = new RememberedReads<string, int>(clock, TimeSpan.FromSeconds(10));

        memory.Remember("a", 1, memory.BeginRead());
        clock.Advance(TimeSpan.FromSeconds(9.9));
        var hit = memory.TryGet("a", out var value);
        clock.Advance(TimeSpan.FromSeconds(0.1));

        Assert.True(hit);
        Assert.Equal(1, value);
        Assert.False(memory.TryGet("a", out _));
    }

    [Fact]
    public void Lifetime_CountsFromWhenTheReadBegan()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var memory = new RememberedReads<string, int>(clock, TimeSpan.FromSeconds(10));

        var read = memory.BeginRead();
        clock.Advance(TimeSpan.FromSeconds(6)); // a slow database read
        memory.Remember("a", 1, read);
        clock.Advance(TimeSpan.FromSeconds(4));

        Assert.False(memory.TryGet("a", out _));
    }

    [Fact]
    public void ForgetAll_DropsEverything_AndAReadThatRacedWithTheChangeIsNotRemembered()
    {
        var memory = new RememberedReads<string, int>(new ManualClock(DateTimeOffset.UnixEpoch), TimeSpan.FromSeconds(10));
        memory.Remember("a", 1, memory.BeginRead());

        var raced = memory.BeginRead(); // read begins, then a change commits, then the (stale) value arrives
        memory.ForgetAll();
        memory.Remember("b", 2, raced);

        Assert.False(memory.TryGet("a", out _));
        Assert.False(memory.TryGet("b", out _));
        memory.Remember("b", 3, memory.BeginRead());
        Assert.True(memory.TryGet("b", out var fresh));
        Assert.Equal(3, fresh);
    }

    [Fact]
    public void Remember_AtCapacity_StartsOver()
    {
        var memory = new RememberedReads<int, int>(new ManualClock(DateTimeOffset.UnixEpoch), TimeSpan.FromSeconds(10), capacity: 3);
        for (var i = 0; i < 3; i++)
        {
            memory.Remember(i, i, memory.BeginRead());
        }

        memory.Remember(3, 3, memory.BeginRead());

        Assert.False(memory.TryGet(0, out _));
        Assert.True(memory.TryGet(3, out _));
    }
}
