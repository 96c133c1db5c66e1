namespace Causeway.Data;

/// <summary>Placeholder.</summary>
public sealed class DataRequestException : Exception
{
}
