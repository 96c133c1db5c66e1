using Causeway.Gateway.Agent;

return await AgentApp.RunAsync(args, Console.Out, Console.Error);
