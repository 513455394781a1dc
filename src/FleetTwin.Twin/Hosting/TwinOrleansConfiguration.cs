using FleetTwin.Twin.Serialization;
using System.Net;
using Microsoft.Extensions.Hosting;
using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Journal;
using Microsoft.Extensions.Logging;
using FleetTwin.Twin.Streams;
using FleetTwin.Twin.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.Streams;

namespace FleetTwin.Twin.Hosting;

/// <summary>One extension per side: the silo and the client, each choosing embedded or cluster mode from options.</summary>
public static class TwinOrleansConfiguration
{
    /// <summary>Configures a silo to host the twin: clustering, storage, streams, serialization, metrics.</summary>
    public static ISiloBuilder AddFleetTwin(this ISiloBuilder silo, TwinClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.KubernetesHosting && !options.IsClusterMode)
            throw new InvalidOperationException("FleetTwin:KubernetesHosting needs FleetTwin:RedisConnectionString: pods form a cluster through Redis membership");
        if (!options.KubernetesHosting)
        {
            // Under Kubernetes hosting the pod supplies cluster and service ids (labels / ORLEANS_* variables).
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
        }
        if (!options.IsClusterMode)
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);
            return silo.AddFleetTwinGrains(options);
        }
        var redis = TwinRedis.Configuration(options);
        silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
        if (!options.KubernetesHosting)
        {
            // Under Kubernetes hosting UseKubernetesHosting() (called by the silo) sets the endpoints from the pod.
            // A silo advertised at a loopback address listens there only (OrleansListenAddress), not on every interface.
            silo.ConfigureEndpoints(
                options.AdvertisedAddress is null ? Dns.GetHostName() : options.AdvertisedAddress,
                options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: options.OrleansListenAddress is null);
        }
        return silo.AddFleetTwinGrains(options);
    }

    /// <summary>
    /// Everything but clustering: grain storage (memory, or Redis in cluster mode), the twin's streams, serialization
    /// and metrics. Test clusters (Orleans.TestingHost) bring their own membership and call this directly.
    /// </summary>
    public static ISiloBuilder AddFleetTwinGrains(this ISiloBuilder silo, TwinClusterOptions options)
    {
        if (options.IsClusterMode)
        {
            var redis = TwinRedis.Configuration(options);
            silo.AddRedisGrainStorage(TwinStorage.Name, o => o.ConfigurationOptions = redis.Clone());
            silo.AddRedisGrainStorage(TwinStreams.PubSubStore, o => o.ConfigurationOptions = redis.Clone());
        }
        else
        {
            // In this process, not in storage grains (see EmbeddedGrainStorage): the embedded twin is one silo.
            foreach (var name in new[] { TwinStorage.Name, TwinStreams.PubSubStore })
                silo.Services.AddGrainStorage(name, static (sp, _) => new EmbeddedGrainStorage(sp.GetRequiredService<IGrainStorageSerializer>()));
        }
        if (options.IsClusterMode)
        {
            // The durable journal: batches are Redis stream entries before any door acknowledges them, and a host grain
            // consumes them at least once, applying each once (docs/durability.md).
            var journal = JournalOptionsFor(options);
            silo.AddPersistentStreams(TwinStreams.Provider, (sp, name) => CreateJournal(sp, name, options, journal), streams =>
            {
                streams.ConfigurePullingAgent(agent => agent.Configure(o =>
                {
                    o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(50);
                    o.MaxEventDeliveryTime = journal.MaxDeliveryTime;
                }));
                streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            });
        }
        else
        {
            silo.AddMemoryStreams(TwinStreams.Provider, streams =>
            {
                // One queue per partition, each drained by a pulling agent polling its queue. The default 100 ms poll adds
                // up to 100 ms of lag to a batch after a quiet spell; 10 ms cost an idle silo 12 % of a core (800 polls a
                // second); 50 ms halves the lag for 6 %.
                streams.ConfigurePartitioning(8);
                streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(50)));
                // Host streams only have implicit subscribers (the HostGrain); without the explicit pub-sub every new host
                // stream would cost a PubSubRendezvousGrain activation and a state write before its first delivery.
                streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            });
        }
        // Alerts are subscribed explicitly (the API's watch), so they travel on their own provider.
        silo.AddMemoryStreams(TwinStreams.AlertProvider, streams => streams.ConfigurePartitioning(1)); // one stream: one queue
        // No AddActivityPropagation here: its call filter puts two more async state machines on every grain call
        // (measured: ~800 bytes per GetHost), worth it only when traces are collected; the silo adds it then.
        silo.Services.AddTwinSerialization();
        silo.Services.TryAddSingleton<TwinMetrics>();
        silo.Services.TryAddSingleton(new HostQuietCheck(options.QuietCheckInterval, TimeProvider.System));
        return silo;
    }

    /// <summary>Configures a client (the CLI's replay) to reach a running twin.</summary>
    public static IClientBuilder AddFleetTwinClient(this IClientBuilder client, TwinClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        if (options.IsClusterMode)
            client.UseRedisClustering(o => o.ConfigurationOptions = TwinRedis.Configuration(options));
        else
            client.UseLocalhostClustering(options.GatewayPort);
        return client.AddFleetTwinClientStreams(options);
    }

    /// <summary>
    /// The client side of the twin's streams and serialization (without clustering, for test clusters): the journal in
    /// cluster mode (a replay's batches are durable before its publish returns), memory streams otherwise.
    /// </summary>
    public static IClientBuilder AddFleetTwinClientStreams(this IClientBuilder client, TwinClusterOptions? options = null)
    {
        if (options is { IsClusterMode: true })
        {
            var journal = JournalOptionsFor(options);
            client.AddPersistentStreams(TwinStreams.Provider, (sp, name) => CreateJournal(sp, name, options, journal),
                streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
        }
        else
        {
            client.AddMemoryStreams(TwinStreams.Provider, streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
        }
        client.AddMemoryStreams(TwinStreams.AlertProvider, streams => streams.ConfigurePartitioning(1));
        client.AddActivityPropagation();
        client.Services.AddTwinSerialization();
        return client;
    }

    /// <summary>The journal's settings, its keys named after the service (two twins on one Redis keep apart journals).</summary>
    public static JournalOptions JournalOptionsFor(TwinClusterOptions options) =>
        options.Journal.KeyPrefix is { Length: > 0 } ? options.Journal : options.Journal with { KeyPrefix = $"fleettwin:{options.ServiceId}:journal" };

    private static JournalAdapterFactory CreateJournal(IServiceProvider services, string name, TwinClusterOptions options, JournalOptions journal) =>
        new(name, TwinRedis.Configuration(options), journal, services.GetRequiredService<Serializer<JournalBatchContainer>>(),
            services.GetRequiredService<ILoggerFactory>(), services.GetService<TwinMetrics>());

    /// <summary>
    /// The domain's event and state types carry no Orleans attributes (the domain does not reference Orleans), so
    /// Orleans serializes them with System.Text.Json; everything FleetTwin defines in the twin itself uses Orleans'
    /// generated serializers.
    /// </summary>
    public static IServiceCollection AddTwinSerialization(this IServiceCollection services)
    {
        services.AddSerializer(s => s.AddJsonSerializer(isSupported: TwinJson.Handles, TwinJson.Options));
        // Grain state is stored with Orleans' own serializer, not the Newtonsoft JSON default: a host's state is
        // written after every batch, and the JSON default was the largest single cost of a replay.
        // Orleans registers its JSON serializer first, so this replaces rather than tries to add (a TryAdd here left the
        // memory and Redis storage on Newtonsoft JSON: a fifth of a replay's CPU).
        services.Replace(ServiceDescriptor.Singleton<IGrainStorageSerializer, TwinGrainStorageSerializer>());
        return services;
    }
}
