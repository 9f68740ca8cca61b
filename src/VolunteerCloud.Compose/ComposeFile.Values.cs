using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using VolunteerCloud.Apps;
using VolunteerCloud.Compose.Yaml;
using VolunteerCloud.Containers;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VolunteerCloud.Compose;

/// <content>The values a service's keys take: environment, ports, health check, command.</content>
public static partial class ComposeFile
{
    private sealed partial class Parser
    {
        private ImmutableSortedDictionary<string, string> Environment(YamlNode node, string path)
        {
            var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            if (node is YamlSequenceNode list)
            {
                for (var i = 0; i < list.Children.Count; i++)
                {
                    var item = Scalar(list.Children[i], $"{path}[{i}]");
                    var equals = item.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        throw Error(list.Children[i], $"{path}[{i}]", $"'{item}' has no value: write NAME=value (values are not taken from the shell that deploys)");
                    }

                    Add(builder, item[..equals], item[(equals + 1)..], list.Children[i], path);
                }
            }
            else
            {
                foreach (var (key, _, value) in Entries(Mapping(node, path), path))
                {
                    if (value is YamlScalarNode { Value: null or "" or "~" or "null" } && value.Tag.IsEmpty && ((YamlScalarNode)value).Style == ScalarStyle.Plain)
                    {
                        throw Error(value, $"{path}.{key}", "has no value: give one (values are not taken from the shell that deploys)");
                    }

                    Add(builder, key, Scalar(value, $"{path}.{key}"), value, path);
                }
            }

            return builder.ToImmutable();
        }

        private void Add(ImmutableSortedDictionary<string, string>.Builder builder, string key, string value, YamlNode node, string path)
        {
            if (!builder.TryAdd(key, value))
            {
                throw Error(node, $"{path}.{key}", "is set twice");
            }
        }

        private ImmutableArray<PortBinding> Ports(YamlNode node, string path)
        {
            if (node is not YamlSequenceNode list)
            {
                throw Error(node, path, "ports is a list, e.g. [\"8080:80\"]");
            }

            var ports = ImmutableArray.CreateBuilder<PortBinding>();
            for (var i = 0; i < list.Children.Count; i++)
            {
                var at = $"{path}[{i}]";
                var item = list.Children[i];
                if (item is YamlMappingNode map)
                {
                    int target = 0, published = 0;
                    var protocol = "tcp";
                    foreach (var (key, _, value) in Entries(map, at))
                    {
                        switch (key)
                        {
                            case "target":
                                target = Port(Scalar(value, $"{at}.target"), value, $"{at}.target");
                                break;
                            case "published":
                                published = Port(Scalar(value, $"{at}.published"), value, $"{at}.published");
                                break;
                            case "protocol":
                                protocol = Protocol(Scalar(value, $"{at}.protocol"), value, $"{at}.protocol");
                                break;
                            default:
                                Unsupported(map, key, $"{at}.{key}");
                                break;
                        }
                    }

                    if (target == 0)
                    {
                        throw Error(item, at, "the long port form needs 'target'");
                    }

                    ports.Add(new PortBinding(target, published, protocol));
                    continue;
                }

                var text = Scalar(item, at);
                var slash = text.Split('/');
                if (slash.Length > 2)
                {
                    throw Error(item, at, $"'{text}' is not a port: use CONTAINER, HOST:CONTAINER or HOST:CONTAINER/udp");
                }

                var proto = slash.Length == 2 ? Protocol(slash[1], item, at) : "tcp";
                var parts = slash[0].Split(':');
                switch (parts.Length)
                {
                    case 1:
                        ports.Add(new PortBinding(Port(parts[0], item, at), 0, proto));
                        break;
                    case 2:
                        ports.Add(new PortBinding(Port(parts[1], item, at), Port(parts[0], item, at), proto));
                        break;
                    default:
                        throw Error(item, at, $"'{text}': binding to a host IP or a port range is not supported; use HOST:CONTAINER");
                }
            }

            return ports.ToImmutable();
        }

        private int Port(string text, YamlNode node, string path) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
                ? port
                : throw Error(node, path, $"'{text}' is not a port number (1–65535)");

        private string Protocol(string text, YamlNode node, string path) =>
            text is "tcp" or "udp" ? text : throw Error(node, path, $"'{text}' is not a protocol (tcp or udp)");

        private HealthCheckSpec? HealthCheck(YamlNode node, string path)
        {
            var map = Mapping(node, path);
            HealthCheckSpec? spec = null;
            var disabled = false;
            ImmutableArray<string>? test = null;
            TimeSpan? interval = null, timeout = null, start = null;
            int? retries = null;
            foreach (var (key, _, value) in Entries(map, path))
            {
                var at = $"{path}.{key}";
                switch (key)
                {
                    case "test":
                        test = value is YamlSequenceNode list
                            ? [.. list.Children.Select((c, i) => Scalar(c, $"{at}[{i}]"))]
                            : ["CMD-SHELL", Scalar(value, at)];
                        if (test.Value.Length == 0 || test.Value[0] is not ("CMD" or "CMD-SHELL" or "NONE"))
                        {
                            throw Error(value, at, "test is a string, or a list starting with CMD, CMD-SHELL or NONE");
                        }

                        break;
                    case "interval":
                        interval = Duration(value, at);
                        break;
                    case "timeout":
                        timeout = Duration(value, at);
                        break;
                    case "start_period":
                        start = Duration(value, at);
                        break;
                    case "retries":
                        var r = Number(value, at);
                        retries = r >= 1 && r == Math.Floor(r) && r <= 1000 ? (int)r : throw Error(value, at, "retries is a whole number from 1 to 1000");
                        break;
                    case "disable":
                        disabled = Scalar(value, at) switch
                        {
                            "true" => true,
                            "false" => false,
                            var other => throw Error(value, at, $"'{other}' is not true or false"),
                        };
                        break;
                    default:
                        Unsupported(map, key, at);
                        break;
                }
            }

            if (disabled || test is { } t && t[0] == "NONE")
            {
                return null;
            }

            if (test is null)
            {
                throw Error(node, path, "a health check needs 'test'");
            }

            spec = new HealthCheckSpec(test.Value);
            return spec with
            {
                Interval = interval ?? spec.Interval,
                Timeout = timeout ?? spec.Timeout,
                StartPeriod = start ?? spec.StartPeriod,
                Retries = retries ?? spec.Retries,
            };
        }

        private ImmutableArray<string> SplitCommand(YamlNode node, string path)
        {
            // Shell-like splitting as Compose does for the string form: white space separates words, quotes group them.
            var text = Scalar(node, path);
            var words = ImmutableArray.CreateBuilder<string>();
            var word = new StringBuilder();
            var inWord = false;
            char? quote = null;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quote is { } q)
                {
                    if (c == q)
                    {
                        quote = null;
                    }
                    else if (c == '\\' && q == '"' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                    {
                        word.Append(text[++i]);
                    }
                    else
                    {
                        word.Append(c);
                    }
                }
                else if (c is '"' or '\'')
                {
                    quote = c;
                    inWord = true;
                }
                else if (char.IsWhiteSpace(c))
                {
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                }
                else
                {
                    word.Append(c == '\\' && i + 1 < text.Length ? text[++i] : c);
                    inWord = true;
                }
            }

            if (quote is not null)
            {
                throw Error(node, path, "has an unclosed quote");
            }

            if (inWord)
            {
                words.Add(word.ToString());
            }

            return words.ToImmutable();
        }
    }
}
