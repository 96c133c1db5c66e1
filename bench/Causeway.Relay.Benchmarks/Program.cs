using Causeway.Relay.Benchmarks;

// Usage: dotnet run -c Release --project bench/Causeway.Relay.Benchmarks [-- --seconds N --stream-mb N --listeners N --http-listeners N]
// (the program runs itself again with "listeners-child" to hold the listeners in a second process)
return args.FirstOrDefault() == ListenerChild.Command
    ? await ListenerChild.RunAsync(Console.In, Console.Out)
    : await RelayBenchmark.RunAsync(args);
