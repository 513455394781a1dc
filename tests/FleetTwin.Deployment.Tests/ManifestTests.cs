using System.Reflection;
using FleetTwin.Security;
using FleetTwin.Silo;
using FleetTwin.Twin.Hosting;
using YamlDotNet.RepresentationModel;

namespace FleetTwin.Deployment.Tests;

public class ManifestTests
{
    public static TheoryData<string> Kustomizations => new() { "", "overlays/production" };

    private static List<YamlMappingNode> Objects(string kustomization)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(Tooling.Render(kustomization)));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlMappingNode Find(List<YamlMappingNode> objects, string kind, string name) =>
        objects.Single(o => Scalar(o, "kind") == kind && Scalar(o, "metadata", "name") == name);

    private static string? Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
                return null;
            node = next;
        }
        return (node as YamlScalarNode)?.Value;
    }

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
            node = key.StartsWith('#') ? ((YamlSequenceNode)node).Children[int.Parse(key[1..], System.Globalization.CultureInfo.InvariantCulture)] : ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        return node;
    }

    private static YamlMappingNode SiloContainer(List<YamlMappingNode> objects) =>
        (YamlMappingNode)Node(Find(objects, "Deployment", "fleettwin-silo"), "spec", "template", "spec", "containers", "#0");

    [SkippableTheory]
    [MemberData(nameof(Kustomizations))]
    public void Every_rendered_object_validates_against_the_Kubernetes_API_schemas(string kustomization)
    {
        var rendered = Tooling.Render(kustomization);
        var checker = Path.Combine(Tooling.RepositoryRoot, "tests", "FleetTwin.Deployment.Tests", "schema-check");
        if (!Directory.Exists(Path.Combine(checker, "node_modules", "kubernetes-models")))
        {
            var (installCode, _, installErr) = Tooling.Run("npm", "ci --no-audit --no-fund --loglevel=error", checker);
            Assert.True(installCode == 0, $"npm ci in {checker} failed: {installErr}");
        }
        var (code, stdout, stderr) = Tooling.Run("node", "validate.mjs", checker, stdin: rendered);
        Assert.True(code == 0, $"schema validation of k8s/{kustomization} failed:\n{stderr}\n{stdout}");
        Assert.Contains("apps/v1 Deployment/fleettwin-silo", stdout);
        Assert.Contains("policy/v1 PodDisruptionBudget/fleettwin-silo", stdout);
        Assert.Contains("networking.k8s.io/v1 NetworkPolicy/fleettwin-silo", stdout);
    }

    [SkippableFact]
    public void Container_ports_and_probe_paths_are_the_ones_the_silo_listens_on()
    {
        var objects = Objects("");
        var container = SiloContainer(objects);
        var ports = ((YamlSequenceNode)Node(container, "ports")).Children
            .ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!, System.Globalization.CultureInfo.InvariantCulture));
        var defaults = new TwinClusterOptions();
        Assert.Equal(SiloEndpoints.HttpPort, ports["http"]);
        Assert.Equal(defaults.SiloPort, ports["silo"]);
        Assert.Equal(defaults.GatewayPort, ports["gateway"]);
        Assert.Equal(FleetTwin.Api.Hosting.GrpcEndpoint.DefaultPort, ports["grpc"]);
        var doors = new FleetTwin.FrontDoors.FrontDoorOptions();
        Assert.Equal(doors.SyslogTlsPort, ports["syslog-tls"]);
        // Plain syslog is closed in cluster mode (no TLS, no sender check): no port for it.
        Assert.DoesNotContain(ports.Values, port => port == doors.SyslogTcpPort || port == doors.SyslogUdpPort);

        Assert.Equal(SiloEndpoints.ReadyPath, Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal(SiloEndpoints.ReadyPath, Scalar(container, "startupProbe", "httpGet", "path"));
        Assert.Equal(SiloEndpoints.LivePath, Scalar(container, "livenessProbe", "httpGet", "path"));

        var annotations = Node(Find(objects, "Deployment", "fleettwin-silo"), "spec", "template", "metadata", "annotations");
        Assert.Equal(SiloEndpoints.MetricsPath, Scalar(annotations, "prometheus.io/path"));
        Assert.Equal(doors.RelpPort, ports["relp"]);
        Assert.Equal(SiloEndpoints.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(annotations, "prometheus.io/port"));
    }

    [SkippableFact]
    public void Every_FleetTwin_environment_variable_names_a_setting_the_silo_reads_and_Orleans_gets_its_pod_variables()
    {
        var container = SiloContainer(Objects(""));
        var names = ((YamlSequenceNode)Node(container, "env")).Children.Select(e => Scalar(e, "name")!).ToList();

        // FleetTwin__X binds to TwinClusterOptions.X or FleetTwinEndpointOptions.X (FleetTwin__Tls__X and
        // FleetTwin__Jwt__X to its nested options) and FleetTwin__FrontDoors__X to FrontDoorOptions.X; a typo would be
        // silently ignored by .NET configuration, so every such name must be a real setting.
        static HashSet<string> Settings(Type options, string prefix = "") =>
            options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => prefix + p.Name).ToHashSet();
        var twinSettings = Settings(typeof(TwinClusterOptions));
        twinSettings.UnionWith(Settings(typeof(FleetTwinEndpointOptions)));
        twinSettings.UnionWith(Settings(typeof(DoorTlsOptions), "Tls__"));
        twinSettings.UnionWith(Settings(typeof(JwtOptions), "Jwt__"));
        twinSettings.UnionWith(Settings(typeof(RedisSecurityOptions), "Redis__"));
        var doorSettings = Settings(typeof(FleetTwin.FrontDoors.FrontDoorOptions));
        const string Doors = "FleetTwin__FrontDoors__";
        foreach (var name in names.Where(n => n.StartsWith(TwinClusterOptions.Section + "__", StringComparison.Ordinal)))
        {
            if (name.StartsWith(Doors, StringComparison.Ordinal))
                Assert.Contains(name[Doors.Length..], doorSettings);
            else
                Assert.Contains(name[(TwinClusterOptions.Section.Length + 2)..], twinSettings);
        }
        Assert.Contains("FleetTwin__RedisConnectionString", names);
        Assert.Contains("FleetTwin__KubernetesHosting", names);
        // Secure by default: TLS and tokens on the doors, nothing that switches the check off.
        Assert.Contains("FleetTwin__Tls__CertificatePath", names);
        Assert.Contains("FleetTwin__Tls__KeyPath", names);
        Assert.Contains("FleetTwin__Jwt__SigningKeyPath", names);
        Assert.DoesNotContain("FleetTwin__AllowInsecure", names);

        // What Microsoft.Orleans.Hosting.Kubernetes reads from the pod.
        foreach (var required in new[] { "POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID" })
            Assert.Contains(required, names);
    }

    [SkippableFact]
    public void The_image_the_manifests_deploy_is_the_one_the_Dockerfile_builds_and_it_runs_as_the_same_non_root_user()
    {
        var objects = Objects("");
        var container = SiloContainer(objects);
        Assert.Equal("fleettwin:latest", Scalar(container, "image"));
        var dockerfile = File.ReadAllText(Path.Combine(Tooling.RepositoryRoot, "Dockerfile"));
        Assert.Contains("docker build -t fleettwin:latest .", dockerfile);
        Assert.Contains("USER app", dockerfile);
        Assert.Contains("fleettwin-silo.dll", dockerfile);
        Assert.Equal("fleettwin-silo.dll", typeof(SiloEndpoints).Assembly.GetName().Name + ".dll");
        var pod = Node(Find(objects, "Deployment", "fleettwin-silo"), "spec", "template", "spec");
        Assert.Equal("1654", Scalar(pod, "securityContext", "runAsUser")); // the .NET images' 'app' user
        Assert.Equal("true", Scalar(pod, "securityContext", "runAsNonRoot"));
    }

    [SkippableFact]
    public void The_silo_gets_only_the_pod_permissions_Orleans_Kubernetes_hosting_uses_and_a_disruption_budget()
    {
        var objects = Objects("");
        var rules = (YamlSequenceNode)Node(Find(objects, "Role", "fleettwin-silo"), "rules");
        var rule = Assert.Single(rules.Children);
        Assert.Equal(["pods"], ((YamlSequenceNode)Node(rule, "resources")).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal(["get", "list", "watch", "delete", "patch"], ((YamlSequenceNode)Node(rule, "verbs")).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal("1", Scalar(Find(objects, "PodDisruptionBudget", "fleettwin-silo"), "spec", "maxUnavailable"));
        var production = Objects("overlays/production");
        Assert.Equal("3", Scalar(Find(production, "Deployment", "fleettwin-silo"), "spec", "replicas"));
    }

    [SkippableFact]
    public void The_TLS_certificate_and_the_JWT_key_come_from_mounted_Secrets_and_the_probes_speak_HTTPS()
    {
        var objects = Objects("");
        var container = SiloContainer(objects);
        var env = ((YamlSequenceNode)Node(container, "env")).Children.ToDictionary(e => Scalar(e, "name")!, e => Scalar(e, "value"));
        var mounts = ((YamlSequenceNode)Node(container, "volumeMounts")).Children.ToDictionary(m => Scalar(m, "name")!, m => Scalar(m, "mountPath")!);
        var secrets = ((YamlSequenceNode)Node(Find(objects, "Deployment", "fleettwin-silo"), "spec", "template", "spec", "volumes")).Children
            .Where(v => Scalar(v, "secret", "secretName") is not null).ToDictionary(v => Scalar(v, "name")!, v => Scalar(v, "secret", "secretName")!);
        Assert.Equal("fleettwin-tls", secrets["tls"]);
        Assert.Equal("fleettwin-jwt", secrets["jwt"]);
        // Every file the silo is told to read lies under a Secret's mount.
        foreach (var (setting, volume) in new[] { ("FleetTwin__Tls__CertificatePath", "tls"), ("FleetTwin__Tls__KeyPath", "tls"), ("FleetTwin__Jwt__SigningKeyPath", "jwt") })
            Assert.StartsWith(mounts[volume] + "/", env[setting], StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(env["FleetTwin__Jwt__Issuer"]));
        Assert.False(string.IsNullOrEmpty(env["FleetTwin__Jwt__Audience"]));
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            Assert.Equal("HTTPS", Scalar(container, probe, "httpGet", "scheme"));
    }

    [SkippableFact]
    public void Orleans_TLS_and_Redis_TLS_with_its_ACL_user_are_wired_through_mounted_Secrets()
    {
        var objects = Objects("");
        var container = SiloContainer(objects);
        var env = ((YamlSequenceNode)Node(container, "env")).Children.ToDictionary(e => Scalar(e, "name")!, e => Scalar(e, "value"));
        var siloFiles = SecretFiles(Find(objects, "Deployment", "fleettwin-silo"));
        // The cluster's CA (mutual TLS between silos and with gateway clients) and the Redis CA come with the
        // certificate; the Redis password from its own Secret; TLS to Redis is on.
        Assert.Equal("fleettwin-tls", siloFiles(env["FleetTwin__Tls__ClientCaPath"]!));
        Assert.Equal("fleettwin-tls", siloFiles(env["FleetTwin__Redis__CaPath"]!));
        Assert.Equal("fleettwin-redis-auth", siloFiles(env["FleetTwin__Redis__PasswordPath"]!));
        Assert.Equal("true", env["FleetTwin__Redis__Tls"]);
        Assert.False(string.IsNullOrEmpty(env["FleetTwin__Redis__User"]));
        Assert.DoesNotContain(env, e => e.Key.Contains("Password", StringComparison.Ordinal) && !e.Key.EndsWith("PasswordPath", StringComparison.Ordinal));
        // The connection string names the Redis Service and its port, nothing secret.
        var connection = Scalar(Find(objects, "ConfigMap", "fleettwin-config"), "data", "redis-connection-string")!;
        var redisPort = Node(Find(objects, "Service", "fleettwin-redis"), "spec", "ports", "#0");
        Assert.Equal($"fleettwin-redis:{Scalar(redisPort, "port")}", connection);

        // Redis itself: TLS only (no clear-text port), its certificate and ACL file from Secrets, the default user
        // off in that file (checked by the secure cluster test against a real redis-server with the same flags).
        var redis = Find(objects, "StatefulSet", "fleettwin-redis");
        var redisContainer = Node(redis, "spec", "template", "spec", "containers", "#0");
        var args = ((YamlSequenceNode)Node(redisContainer, "args")).Children.Select(a => ((YamlScalarNode)a).Value!).ToList();
        string Argument(string flag) => args[args.IndexOf(flag) + 1];
        Assert.Equal("0", Argument("--port"));
        var tlsPort = ((YamlSequenceNode)Node(redisContainer, "ports")).Children.Single(p => Scalar(p, "name") == "redis");
        Assert.Equal(Scalar(tlsPort, "containerPort"), Argument("--tls-port"));
        var redisFiles = SecretFiles(redis);
        foreach (var flag in new[] { "--tls-cert-file", "--tls-key-file", "--tls-ca-cert-file" })
            Assert.Equal("fleettwin-redis-tls", redisFiles(Argument(flag)));
        Assert.Equal("fleettwin-redis-auth", redisFiles(Argument("--aclfile")));
    }

    [SkippableFact]
    public void NetworkPolicies_admit_only_the_doors_ports_Orleans_between_silos_and_Redis_from_fleettwin_pods()
    {
        var objects = Objects("");
        var silo = Find(objects, "Deployment", "fleettwin-silo");
        var siloLabels = Labels(Node(silo, "spec", "template", "metadata", "labels"));
        var containerPorts = ((YamlSequenceNode)Node(SiloContainer(objects), "ports")).Children.Select(p => Scalar(p, "name")!).ToHashSet();

        var siloPolicy = Find(objects, "NetworkPolicy", "fleettwin-silo");
        Assert.True(Selects(Node(siloPolicy, "spec", "podSelector"), siloLabels), "the silo policy must select the silo pods");
        var rules = ((YamlSequenceNode)Node(siloPolicy, "spec", "ingress")).Children.ToList();
        var open = rules.Where(r => !HasFrom(r)).SelectMany(PortNames).ToHashSet();
        var fromPods = rules.Where(HasFrom).ToList();
        // From anywhere: exactly the doors (each speaks TLS and wants credentials), never an Orleans port.
        Assert.Equal(new HashSet<string> { "http", "grpc", "syslog-tls", "relp" }, open);
        // Every named port is one the container declares (a NetworkPolicy port naming nothing admits nothing).
        Assert.Subset(containerPorts, rules.SelectMany(PortNames).ToHashSet());
        // Orleans silo and gateway ports: only from silo pods (and labelled Orleans clients), no namespace or IP block.
        var orleans = Assert.Single(fromPods);
        Assert.Equal(new HashSet<string> { "silo", "gateway" }, PortNames(orleans).ToHashSet());
        var peers = ((YamlSequenceNode)Node(orleans, "from")).Children;
        Assert.All(peers, p => Assert.Equal(["podSelector"], ((YamlMappingNode)p).Children.Keys.Select(k => ((YamlScalarNode)k).Value)));
        Assert.Contains(peers, p => Selects(Node(p, "podSelector"), siloLabels));
        Assert.DoesNotContain(peers, p => ((YamlMappingNode)Node(p, "podSelector")).Children.Count == 0);
        // Every container port is admitted by some rule: nothing the silo serves is cut off by mistake.
        Assert.Subset(rules.SelectMany(PortNames).ToHashSet(), containerPorts);

        var redis = Find(objects, "StatefulSet", "fleettwin-redis");
        var redisPolicy = Find(objects, "NetworkPolicy", "fleettwin-redis");
        Assert.True(Selects(Node(redisPolicy, "spec", "podSelector"), Labels(Node(redis, "spec", "template", "metadata", "labels"))));
        var redisRule = Assert.Single(((YamlSequenceNode)Node(redisPolicy, "spec", "ingress")).Children);
        Assert.True(HasFrom(redisRule), "Redis must not be open to every pod");
        Assert.Equal(["redis"], PortNames(redisRule));
        Assert.Contains(((YamlSequenceNode)Node(redisRule, "from")).Children, p => Selects(Node(p, "podSelector"), siloLabels));
        Assert.All(((YamlSequenceNode)Node(redisRule, "from")).Children, p => Assert.NotEmpty(((YamlMappingNode)Node(p, "podSelector", "matchLabels")).Children));
    }

    [SkippableFact]
    public void The_syslog_TLS_door_port_6514_is_declared_by_the_container_offered_by_the_ingest_Service_and_admitted_by_the_NetworkPolicy()
    {
        const int SyslogTls = 6514; // RFC 5425 §4.1, the IANA port
        var objects = Objects("");
        var containerPorts = ((YamlSequenceNode)Node(SiloContainer(objects), "ports")).Children
            .ToDictionary(p => Scalar(p, "name")!, p => (Port: int.Parse(Scalar(p, "containerPort")!, System.Globalization.CultureInfo.InvariantCulture), Protocol: Scalar(p, "protocol") ?? "TCP"));
        var declared = Assert.Single(containerPorts, p => p.Value.Port == SyslogTls);
        Assert.Equal("TCP", declared.Value.Protocol);
        Assert.Equal(SyslogTls, new FleetTwin.FrontDoors.FrontDoorOptions().SyslogTlsPort);

        // The Service: port 6514 to that container port (by name or number).
        var service = Find(objects, "Service", "fleettwin-ingest");
        var podLabels = Labels(Node(Find(objects, "Deployment", "fleettwin-silo"), "spec", "template", "metadata", "labels"));
        Assert.All(Labels(Node(service, "spec", "selector")), l => Assert.Equal(l.Value, podLabels.GetValueOrDefault(l.Key)));
        var offered = Assert.Single(((YamlSequenceNode)Node(service, "spec", "ports")).Children, p => Scalar(p, "port") == SyslogTls.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var target = Scalar(offered, "targetPort")!;
        Assert.True(target == declared.Key || target == SyslogTls.ToString(System.Globalization.CultureInfo.InvariantCulture), $"fleettwin-ingest port 6514 targets '{target}', not the container's {declared.Key}");
        Assert.Equal("TCP", Scalar(offered, "protocol") ?? "TCP");

        // The NetworkPolicy: 6514/TCP admitted from anywhere, as the other doors (a named port resolves to the container's).
        var rules = ((YamlSequenceNode)Node(Find(objects, "NetworkPolicy", "fleettwin-silo"), "spec", "ingress")).Children;
        var admitted = rules.Where(r => !HasFrom(r)).SelectMany(r => ((YamlSequenceNode)Node(r, "ports")).Children)
            .Select(p => (Port: Scalar(p, "port")!, Protocol: Scalar(p, "protocol") ?? "TCP"))
            .Select(p => (Port: containerPorts.TryGetValue(p.Port, out var named) ? named.Port : int.Parse(p.Port, System.Globalization.CultureInfo.InvariantCulture), p.Protocol));
        Assert.Contains((SyslogTls, "TCP"), admitted);
    }

    [SkippableFact]
    public void The_manifest_front_door_settings_pass_the_secure_by_default_checks_and_open_syslog_TLS_on_the_pod_network()
    {
        var container = SiloContainer(Objects(""));
        using var credentials = new FleetTwin.Tests.Shared.TestCredentials();
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        foreach (var entry in ((YamlSequenceNode)Node(container, "env")).Children)
        {
            if (Scalar(entry, "name") is { } name && name.StartsWith("FleetTwin__", StringComparison.Ordinal) && Scalar(entry, "value") is { } value)
                builder.Configuration[name.Replace("__", ":", StringComparison.Ordinal)] = value;
        }
        // The Secrets' files, made by the test; cluster mode from the ConfigMap's connection string (nothing connects).
        builder.Configuration["FleetTwin:RedisConnectionString"] = "fleettwin-redis:6379";
        builder.Configuration["FleetTwin:Tls:CertificatePath"] = credentials.ServerCertificatePath;
        builder.Configuration["FleetTwin:Tls:KeyPath"] = credentials.ServerKeyPath;
        builder.Configuration["FleetTwin:Tls:ClientCaPath"] = credentials.CaPath;
        builder.Configuration["FleetTwin:Jwt:SigningKeyPath"] = credentials.JwtKeyPath;

        FleetTwin.FrontDoors.FrontDoorHosting.AddFrontDoors(builder); // throws when a door would be insecure on the pod network
        var doors = builder.Services.Single(d => d.ServiceType == typeof(Microsoft.Extensions.Options.IOptions<FleetTwin.FrontDoors.FrontDoorOptions>)).ImplementationInstance;
        var options = Assert.IsAssignableFrom<Microsoft.Extensions.Options.IOptions<FleetTwin.FrontDoors.FrontDoorOptions>>(doors).Value;
        Assert.Equal("0.0.0.0", options.BindAddress);
        var hosted = builder.Services.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)).Select(d => d.ImplementationType?.Name).ToList();
        Assert.Contains("SyslogTlsDoor", hosted);
        Assert.Contains("RelpDoor", hosted);
        Assert.DoesNotContain("SyslogTcpDoor", hosted);
        Assert.DoesNotContain("SyslogUdpDoor", hosted);
    }

    /// <summary>Maps a file path to the Secret mounted at the directory holding it (fails when no Secret is mounted there).</summary>
    private static Func<string, string> SecretFiles(YamlMappingNode workload)
    {
        var pod = Node(workload, "spec", "template", "spec");
        var secrets = ((YamlSequenceNode)Node(pod, "volumes")).Children
            .Where(v => Scalar(v, "secret", "secretName") is not null).ToDictionary(v => Scalar(v, "name")!, v => Scalar(v, "secret", "secretName")!);
        var mounts = ((YamlSequenceNode)Node(pod, "containers", "#0", "volumeMounts")).Children
            .Where(m => secrets.ContainsKey(Scalar(m, "name")!)).ToDictionary(m => Scalar(m, "mountPath")!, m => secrets[Scalar(m, "name")!]);
        return path => mounts.TryGetValue(Path.GetDirectoryName(path)!, out var secret) ? secret : throw new Xunit.Sdk.XunitException($"{path} is not in a mounted Secret ({string.Join(", ", mounts.Keys)})");
    }

    private static Dictionary<string, string> Labels(YamlNode node) =>
        ((YamlMappingNode)node).Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);

    /// <summary>A podSelector with matchLabels only, all of them on the pod (a selector with expressions is not expected here).</summary>
    private static bool Selects(YamlNode selector, Dictionary<string, string> podLabels)
    {
        var map = (YamlMappingNode)selector;
        Assert.Equal(["matchLabels"], map.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        return Labels(map["matchLabels"]).All(l => podLabels.TryGetValue(l.Key, out var v) && v == l.Value);
    }

    private static bool HasFrom(YamlNode rule) => ((YamlMappingNode)rule).Children.ContainsKey(new YamlScalarNode("from"));

    private static IEnumerable<string> PortNames(YamlNode rule) =>
        ((YamlSequenceNode)Node(rule, "ports")).Children.Select(p => Scalar(p, "port")!);
}
