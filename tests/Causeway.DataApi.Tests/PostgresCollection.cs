using Causeway.Testing;

namespace Causeway.DataApi.Tests;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;
