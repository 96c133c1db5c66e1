using Causeway.Server;

// Everything the server is made of is composed in CausewayServer.Compose; this file only runs it.
return await CausewayServer.RunAsync(args, Console.Out, Console.Error);
