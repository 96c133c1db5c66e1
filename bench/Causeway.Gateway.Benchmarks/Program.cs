using Causeway.Gateway.Benchmarks;

// Usage: dotnet run -c Release --project bench/Causeway.Gateway.Benchmarks [-- --seconds N --rows N --stream-rows N --agent-warm-up N --scenarios key,page --transport websocket|rabbitmq]
return await GatewayBenchmark.RunAsync(args);
