namespace Causeway.Agents;

/// <summary>A failure an agent reports as one line and exit code 1; the message never holds a secret.</summary>
public sealed class AgentException(string message, Exception? innerException = null) : Exception(message, innerException);
