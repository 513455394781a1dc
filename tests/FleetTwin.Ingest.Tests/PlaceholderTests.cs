namespace FleetTwin.Ingest.Tests;

public class ProjectWiringTests
{
    [Fact]
    public void Ingest_assembly_is_loadable() => Assert.Equal("FleetTwin.Ingest", typeof(IngestAssembly).Assembly.GetName().Name);
}
