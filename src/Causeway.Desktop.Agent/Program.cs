using Causeway.Desktop.Agent;

return await AgentApp.RunAsync(args, Console.Out, Console.Error);
