using Causeway.ApiManagement.Benchmarks;

// Usage: dotnet run -c Release --project bench/Causeway.ApiManagement.Benchmarks [-- --seconds N --concurrency N --warmup N --rounds N --latency-seconds N --output FILE]
// or [-- --profile [--iterations N]]: each step of an /apim call timed alone inside the server process;
// or [-- --matching FOLDER [--passes N]]: operation matching of the connectors with the most operations in a package folder;
// or [-- --only direct|apim|me|nginx --seconds N]: one path alone for N seconds, to attach a profiler (the process id is printed first).
return await ApimBenchmark.RunAsync(args);
