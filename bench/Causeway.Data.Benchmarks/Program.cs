using Causeway.Data.Benchmarks;

// Usage: dotnet run -c Release --project bench/Causeway.Data.Benchmarks [-- --seconds N --rows N --stream-rows N --providers sqlite,postgresql --stream-providers sqlite]
return await DataBenchmark.RunAsync(args);
