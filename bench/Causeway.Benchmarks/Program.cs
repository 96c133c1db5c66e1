using Causeway.Benchmarks;

// Usage: dotnet run -c Release --project bench/Causeway.Benchmarks [-- SCENARIO [--seconds N] [--concurrency N]]
return await BenchmarkRunner.RunAsync(args);
