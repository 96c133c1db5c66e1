using Causeway.Testing;

namespace Causeway.Data.Tests;

/// <summary>One private PostgreSQL server for every test class in this assembly that joins the collection.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
