using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using VolunteerCloud.Apps;
using VolunteerCloud.Compose.Yaml;
using VolunteerCloud.Containers;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VolunteerCloud.Compose;

/// <summary>
/// Reads the subset of the Compose Specification that VolunteerCloud runs. Every service becomes an
/// <see cref="AppSpec"/> named after it. Supported keys:
/// <list type="bullet">
/// <item><description>top level: <c>services</c>, <c>name</c>, <c>version</c> (obsolete in the specification and
/// ignored, as Compose does), extension fields <c>x-*</c> (ignored, as the specification says);</description></item>
/// <item><description>service: <c>image</c> (required), <c>command</c> (string or list), <c>environment</c> (map or
/// <c>KEY=value</c> list), <c>ports</c> (<c>"80"</c>, <c>"8080:80"</c>, <c>"8080:80/udp"</c>, or the long form with
/// <c>target</c>, <c>published</c>, <c>protocol</c>), <c>healthcheck</c> (<c>test</c>, <c>interval</c>,
/// <c>timeout</c>, <c>retries</c>, <c>start_period</c>, <c>disable</c>), <c>restart</c>, <c>deploy.replicas</c>,
/// <c>deploy.resources.limits.cpus</c> and <c>.memory</c>, and <c>x-volunteercloud.availability</c> (an
/// availability target);</description></item>
/// </list>
/// Any other key is an error naming the key and its line — nothing is silently ignored.
/// </summary>
public static partial class ComposeFile
{
    private static readonly Dictionary<string, string> Hints = new(StringComparer.Ordinal)
    {
        ["build"] = "VolunteerCloud runs images only: build the image, push it to a registry and give it as 'image'",
        ["volumes"] = "volunteers' machines are never mounted into containers, and replicas move between hosts: keep state in a service outside the cluster",
        ["privileged"] = "containers never run privileged on a volunteer's machine",
        ["cap_add"] = "containers run with a fixed minimal capability set",
        ["network_mode"] = "containers never share the volunteer's host network",
        ["devices"] = "containers get no access to the volunteer's devices",
        ["depends_on"] = "apps start independently and must retry their dependencies (Twelve-Factor backing services)",
        ["container_name"] = "replicas are named by VolunteerCloud",
        ["links"] = "apps find each other through their published ports",
    };

    /// <summary>Reads a Compose file.</summary>
    /// <exception cref="ComposeException">The file uses an unsupported key or an invalid value.</exception>
    public static IReadOnlyList<AppSpec> Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses Compose YAML.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">A name for error messages (the file name).</param>
    /// <exception cref="ComposeException">The text is not YAML, uses an unsupported key or an invalid value.</exception>
    public static IReadOnlyList<AppSpec> Parse(TextReader reader, string source = "compose.yaml")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var root = YamlFormatReader.LoadDocument(reader, (line, column, problem) => new ComposeException(source, line, column, "(file)", problem));
        var parser = new Parser(source);
        return parser.File(root);
    }

    private sealed partial class Parser(string source) : YamlFormatReader(source)
    {
        public List<AppSpec> File(YamlNode root)
        {
            var top = Mapping(root, "(file)");
            YamlMappingNode? services = null;
            foreach (var (key, _, value) in Entries(top, ""))
            {
                switch (key)
                {
                    case "services":
                        services = Mapping(value, key);
                        break;
                    case "name":
                    case "version":
                        Scalar(value, key);
                        break;
                    default:
                        if (!key.StartsWith("x-", StringComparison.Ordinal))
                        {
                            Unsupported(top, key, key);
                        }

                        break;
                }
            }

            if (services is null)
            {
                throw Error(root, "(file)", "no 'services': a Compose file for VolunteerCloud needs at least one service");
            }

            var apps = new List<AppSpec>();
            foreach (var (keyNode, service) in services.Children)
            {
                var name = Scalar(keyNode, "services.(key)");
                try
                {
                    _ = new AppSpec(name, "image"); // the name alone, reported at its own line
                }
                catch (ArgumentException e)
                {
                    throw Error(keyNode, $"services.{name}", e.Message.Split(" (Parameter", 2)[0]);
                }

                apps.Add(Service(name, service, $"services.{name}"));
            }

            if (apps.Count == 0)
            {
                throw Error(services, "services", "no services defined");
            }

            return apps;
        }

        private AppSpec Service(string name, YamlNode node, string path)
        {
            var map = Mapping(node, path);
            string? image = null;
            var command = ImmutableArray<string>.Empty;
            var environment = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
            var ports = ImmutableArray<PortBinding>.Empty;
            HealthCheckSpec? health = null;
            var restart = RestartPolicy.Always;
            var replicas = 1;
            var limits = AppSpec.DefaultLimits;
            double? availability = null;
            var readOnly = false;
            foreach (var (key, _, value) in Entries(map, path))
            {
                var at = $"{path}.{key}";
                switch (key)
                {
                    case "image":
                        image = Scalar(value, at);
                        break;
                    case "command":
                        command = value is YamlSequenceNode list ? [.. list.Children.Select((c, i) => Scalar(c, $"{at}[{i}]"))] : SplitCommand(value, at);
                        break;
                    case "environment":
                        environment = Environment(value, at);
                        break;
                    case "ports":
                        ports = Ports(value, at);
                        break;
                    case "healthcheck":
                        health = HealthCheck(value, at);
                        break;
                    case "restart":
                        restart = Scalar(value, at) switch
                        {
                            "always" => RestartPolicy.Always,
                            "on-failure" => RestartPolicy.OnFailure,
                            "no" => RestartPolicy.No,
                            "unless-stopped" => RestartPolicy.UnlessStopped,
                            var other => throw Error(value, at, $"'{other}' is not a restart policy (no, always, on-failure, unless-stopped)"),
                        };
                        break;
                    case "deploy":
                        (replicas, limits) = Deploy(value, at, replicas, limits);
                        break;
                    case "read_only":
                        readOnly = Scalar(value, at) switch
                        {
                            "true" => true,
                            "false" => false,
                            var other => throw Error(value, at, $"'{other}' is not true or false"),
                        };
                        break;
                    case "x-volunteercloud":
                        foreach (var (xKey, _, xValue) in Entries(Mapping(value, at), at))
                        {
                            if (xKey != "availability")
                            {
                                Unsupported((YamlMappingNode)value, xKey, $"{at}.{xKey}");
                            }

                            availability = Number(xValue, $"{at}.availability");
                            if (!(availability is > 0 and < 1))
                            {
                                throw Error(xValue, $"{at}.availability", "an availability target lies strictly between 0 and 1, e.g. 0.999");
                            }
                        }

                        break;
                    default:
                        if (!key.StartsWith("x-", StringComparison.Ordinal))
                        {
                            Unsupported(map, key, at);
                        }

                        break;
                }
            }

            if (image is null)
            {
                throw Error(node, path, "no 'image': VolunteerCloud runs plain Docker images, give one (e.g. image: nginx:1.27)");
            }

            try
            {
                return new AppSpec(name, image)
                {
                    Command = command,
                    Environment = environment,
                    Ports = ports,
                    HealthCheck = health,
                    Restart = restart,
                    Replicas = replicas,
                    ReadOnlyRootFilesystem = readOnly,
                    Limits = limits,
                    AvailabilityTarget = availability,
                };
            }
            catch (ArgumentException e)
            {
                throw Error(node, path, e.Message.Split(" (Parameter", 2)[0]);
            }
        }

        private (int Replicas, ResourceAmount Limits) Deploy(YamlNode node, string path, int replicas, ResourceAmount limits)
        {
            foreach (var (key, _, value) in Entries(Mapping(node, path), path))
            {
                var at = $"{path}.{key}";
                switch (key)
                {
                    case "replicas":
                        var n = Number(value, at);
                        if (n < 0 || n != Math.Floor(n) || n > 10_000)
                        {
                            throw Error(value, at, "replicas must be a whole number from 0 to 10000");
                        }

                        replicas = (int)n;
                        break;
                    case "resources":
                        foreach (var (rKey, _, rValue) in Entries(Mapping(value, at), at))
                        {
                            if (rKey != "limits")
                            {
                                Unsupported((YamlMappingNode)value, rKey, $"{at}.{rKey}");
                            }

                            foreach (var (lKey, _, lValue) in Entries(Mapping(rValue, $"{at}.limits"), $"{at}.limits"))
                            {
                                var lAt = $"{at}.limits.{lKey}";
                                switch (lKey)
                                {
                                    case "cpus":
                                        var cpus = Number(lValue, lAt);
                                        if (!(cpus > 0) || cpus > 1024)
                                        {
                                            throw Error(lValue, lAt, "cpus must be a positive number of cores, e.g. '0.5'");
                                        }

                                        limits = limits with { Cpus = cpus };
                                        break;
                                    case "memory":
                                        limits = limits with { MemoryBytes = Bytes(lValue, lAt) };
                                        break;
                                    default:
                                        Unsupported((YamlMappingNode)rValue, lKey, lAt);
                                        break;
                                }
                            }
                        }

                        break;
                    default:
                        Unsupported((YamlMappingNode)node, key, at);
                        break;
                }
            }

            return (replicas, limits);
        }

        private TimeSpan Duration(YamlNode node, string path) => Duration(node, path, allowDays: false);

        private long Bytes(YamlNode node, string path) => Bytes(node, path, minimum: 4L << 20);

        private void Unsupported(YamlMappingNode map, string key, string path)
        {
            var node = map.Children.Keys.First(k => k is YamlScalarNode s && s.Value == key);
            throw Error(node, path, Hints.TryGetValue(key, out var hint) ? $"not supported: {hint}" : "not supported by VolunteerCloud (see docs/apps.md for the supported subset)");
        }

        protected override Exception Error(int line, int column, string path, string problem) => new ComposeException(Source, line, column, path, problem);
    }
}
