using BenchmarkDotNet.Running;

namespace FleetTwin.Benchmarks;

/// <summary>
/// Runs FleetTwin's BenchmarkDotNet suites. Examples:
/// <c>dotnet run -c Release --project load/FleetTwin.Benchmarks -- --filter '*Swiotlb*'</c>
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
