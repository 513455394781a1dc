using FleetTwin.Tests.Shared;

namespace FleetTwin.Cli.Tests.Support;

/// <summary>One in-process silo with the KB incident for every test class of the API verbs (one start, not one per class).</summary>
[CollectionDefinition(Collection)]
public sealed class KbSilo : ICollectionFixture<KbSiloFixture>
{
    public const string Collection = "KB silo";
}
