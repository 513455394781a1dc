using System.CommandLine;
using System.Globalization;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
using Google.Protobuf;
using Grpc.Core;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin watch [--pool P] [--risk warning] [--json]</c>: alerts as they happen. When the silo ends the stream
/// (restart) or cannot be reached, it reconnects with the last resume token, so nothing kept by the twin is missed.
/// </summary>
public static class WatchCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var pool = new Option<string?>("--pool") { Description = "Only this pool's hosts" };
        var risk = new Option<string?>("--risk") { Description = "Only alerts where the old or new level is at least: latent, warning, critical" };
        risk.AcceptOnlyFromAmong("unknown", "ok", "latent", "warning", "critical");
        var resume = new Option<string?>("--resume") { Description = "Resume token of the last alert seen (replays what was missed)" };
        var count = new Option<int?>("--count") { Description = "Stop after this many alerts" };
        var json = OutputOptions.Json();
        var endpoint = ApiClient.EndpointOption();
        var command = new Command("watch", "Follow risk changes and panics from the running twin (Ctrl-C stops)") { pool, risk, resume, count, json, endpoint };
        command.SetAction((parse, ct) => ApiClient.RunAsync("watch", endpoint.Read(parse), stderr, async channel =>
        {
            var client = new AlertService.AlertServiceClient(channel);
            var token = parse.GetValue(resume) ?? "";
            var left = parse.GetValue(count) ?? int.MaxValue;
            var delay = TimeSpan.FromMilliseconds(250);
            var terminal = Terminal.For(stdout);
            while (!ct.IsCancellationRequested && left > 0)
            {
                try
                {
                    var request = new WatchRequest { Pool = parse.GetValue(pool) ?? "", MinRisk = HostsCommand.RiskOf(parse.GetValue(risk)), ResumeToken = token };
                    using var call = client.Watch(request, cancellationToken: ct);
                    await foreach (var alert in call.ResponseStream.ReadAllAsync(ct))
                    {
                        delay = TimeSpan.FromMilliseconds(250);
                        token = alert.ResumeToken;
                        if (alert.Gap)
                            stderr.WriteLine("fleettwin watch: some alerts may have been missed (the twin's alert log started anew or pruned them)");
                        stdout.WriteLine(parse.GetValue(json) ? JsonFormatter.Default.Format(alert) : Render(alert, terminal));
                        stdout.Flush();
                        if (--left == 0)
                            return 0;
                    }
                    stderr.WriteLine("fleettwin watch: the twin ended the stream (silo stopping); reconnecting");
                }
                catch (RpcException error) when (error.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.ResourceExhausted && !ct.IsCancellationRequested)
                {
                    stderr.WriteLine($"fleettwin watch: {ApiClient.Describe(error, endpoint.Read(parse).Endpoint)}; retrying in {delay.TotalSeconds:0.#} s");
                }
                catch (RpcException) when (ct.IsCancellationRequested)
                {
                    return 0;
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>One line per alert; on a terminal the levels in their colours and PANIC in critical's.</summary>
    internal static string Render(Alert a, Terminal terminal)
    {
        var when = a.RaisedAt?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
        var what = a.Kind == AlertKind.Panic
            ? $"{terminal.Styled("PANIC", RiskStyle.Critical)}  {a.PanicMessage}"
            : $"risk {terminal.Styled(RiskStyle.Name(a.PreviousRisk), RiskStyle.Of(a.PreviousRisk))} -> {terminal.Styled(RiskStyle.Name(a.Risk), RiskStyle.Of(a.Risk))}: {a.Reason}";
        return $"{when}  #{a.Sequence}  {a.Host}{(a.Pool.Length > 0 ? " (" + a.Pool + ")" : "")}  {what}";
    }
}
