using Causeway.ApiManagement.Benchmarks;

// Usage: dotnet run -c Release --project bench/Causeway.ApiManagement.Benchmarks [-- --seconds N --concurrency N --output FILE]
return await ApimBenchmark.RunAsync(args);
